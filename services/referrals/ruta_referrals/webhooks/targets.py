"""Where webhooks may go: https URLs whose resolved addresses are all public.

Checked when an institution's URL is registered and again on every connection the
dispatcher opens, after DNS resolution and against the very address it then connects to,
so a name that later resolves to a private or loopback address (DNS rebinding) is refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpcore
import httpx
from ruta_shared.api import FieldError

WEBHOOK_FIELD: Final = "webhook_url"
TARGET_REFUSED: Final = "target_not_allowed"


class TargetRefusedError(Exception):
    """A webhook target that is not https or resolves to a non-public address."""


@dataclass(frozen=True)
class TargetPolicy:
    """Whether local targets (http, private, loopback, ... addresses) are allowed."""

    allow_local: bool


def address_refused(address: str) -> bool:
    """Whether an IP address is one a webhook may not reach (anything not plainly public)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def scheme_refused(url: str, policy: TargetPolicy) -> bool:
    """Whether the URL's scheme is one webhooks may not use under `policy`."""
    scheme = urlsplit(url).scheme
    return scheme != "https" and not (policy.allow_local and scheme == "http")


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def allowed_addresses(host: str, port: int, policy: TargetPolicy) -> list[str]:
    """The addresses of `host`, refused when any of them is not public (unless local is allowed)."""
    addresses = await resolve(host, port)
    if not addresses:
        raise TargetRefusedError(host)
    if not policy.allow_local and any(address_refused(a) for a in addresses):
        raise TargetRefusedError(host)
    return addresses


async def check_target(url: str | None, policy: TargetPolicy) -> None:
    """Refuse (422, naming the field) a URL that is not https or does not resolve to public IPs."""
    if url is None:
        return
    parts = urlsplit(url)
    if scheme_refused(url, policy) or not parts.hostname:
        raise FieldError(WEBHOOK_FIELD, "debe ser una URL https completa")
    if policy.allow_local:
        return
    try:
        port = parts.port or 443
        await allowed_addresses(parts.hostname, port, policy)
    except ValueError:
        raise FieldError(WEBHOOK_FIELD, "el puerto no es válido") from None
    except OSError:
        raise FieldError(WEBHOOK_FIELD, "no se pudo resolver el nombre del servidor") from None
    except TargetRefusedError:
        raise FieldError(
            WEBHOOK_FIELD, "debe apuntar a una dirección pública (no privada ni local)"
        ) from None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to checked addresses, pinned after resolution."""

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend, policy: Callable[[], TargetPolicy]
    ) -> None:
        self._inner = inner
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, refuse non-public addresses, then connect to the address that was checked."""
        try:
            async with asyncio.timeout(timeout):  # resolving counts against the connect timeout
                addresses = await allowed_addresses(host, port, self._policy())
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(type(exc).__name__) from exc
        except OSError as exc:
            raise httpcore.ConnectError(type(exc).__name__) from exc
        # TLS still verifies the certificate against the host name (httpcore passes it as SNI).
        return await self._inner.connect_tcp(
            addresses[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: webhooks go over TCP."""
        raise TargetRefusedError(path)

    async def sleep(self, seconds: float) -> None:
        """As the inner backend."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a `GuardedBackend` (no proxies from the environment)."""

    def __init__(self, policy: Callable[[], TargetPolicy]) -> None:
        super().__init__(trust_env=False)
        pool = self._pool
        # httpx builds its connection pool without a way to pass a network backend.
        pool._network_backend = GuardedBackend(pool._network_backend, policy)
