"""The client address a request came from, believing X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_FOR = "x-forwarded-for"
UNKNOWN_ADDRESS = "unknown"


@cache
def proxy_networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    """The trusted proxies as networks (`10.0.0.5` or `10.0.0.0/24`); ValueError when invalid."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # [::1]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[str]) -> str:
    """The address to hold responsible for a request.

    The connecting peer, unless it is a trusted proxy: then X-Forwarded-For is read from
    the right (the hop the proxy itself added) leftwards, past further trusted proxies, to
    the first address no trusted proxy vouches for. Anything a client wrote to the left of
    that is never believed; an entry that is not an address stops the walk at the last
    trusted hop.
    """
    if not peer:
        return UNKNOWN_ADDRESS
    networks = proxy_networks(tuple(trusted))
    address = peer
    if not _trusted(address, networks):
        return address
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break
        address = str(ip)
        if not _trusted(address, networks):
            break
    return address


def request_address(request: Request, trusted: Sequence[str]) -> str:
    """`client_address` of a Starlette request."""
    peer = request.client.host if request.client else None
    values = [
        value.decode("latin-1")
        for name, value in request.scope["headers"]
        if name == b"x-forwarded-for"
    ]
    return client_address(peer, values, trusted)
