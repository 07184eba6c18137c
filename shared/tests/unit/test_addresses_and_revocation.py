"""Pure logic: whose address a request is, and when an account's token stops being accepted."""

from __future__ import annotations

from typing import Any

import pytest
from ruta_shared.security.addresses import client_address
from ruta_shared.security.issuer import LoginKeys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.revocation import (
    AccountState,
    AccountStates,
    account_of,
    token_still_valid,
)
from ruta_shared.security.settings import SecuritySettings

TRUSTED = ("127.0.0.1", "10.0.0.0/24")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.1", ["203.0.113.9"], "198.51.100.1"),  # not a proxy: header ignored
        ("127.0.0.1", [], "127.0.0.1"),  # the proxy itself, nothing forwarded
        ("127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
        ("127.0.0.1", ["1.2.3.4, 203.0.113.9"], "203.0.113.9"),  # the left part is the client's
        ("127.0.0.1", ["203.0.113.9, 10.0.0.7"], "203.0.113.9"),  # two trusted hops
        ("127.0.0.1", ["203.0.113.9", "10.0.0.7"], "203.0.113.9"),  # repeated headers
        ("127.0.0.1", ["not-an-ip"], "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.9:5050"], "203.0.113.9"),
        ("127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        (None, ["203.0.113.9"], "unknown"),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    peer: str | None, forwarded: list[str], expected: str
) -> None:
    assert client_address(peer, forwarded, TRUSTED) == expected


def test_trusted_proxies_default_to_loopback_only_on_the_local_default() -> None:
    assert SecuritySettings(environment="test").proxy_addresses == ("127.0.0.1", "::1")
    assert SecuritySettings(environment="production").proxy_addresses == ()
    configured = SecuritySettings(environment="production", trusted_proxies=("10.0.0.5",))
    assert configured.proxy_addresses == ("10.0.0.5",)
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        SecuritySettings(trusted_proxies=("analytics",))


def test_a_login_is_refused_per_account_and_address_and_per_address_only() -> None:
    keys = LoginKeys.of("user:abc", "client:def")
    assert keys.refusing == ["user:abc@def", "client:def"]
    assert "user:abc" not in keys.refusing  # failures from everywhere only delay
    assert keys.every == ["user:abc@def", "client:def", "user:abc"]


def staff(auth: Any = "password") -> Principal:
    return Principal(id="u-1", role=Role.CASE_WORKER, offices=frozenset({"lima"}), auth=auth)


def partner(auth: Any = "client_credentials") -> Principal:
    return Principal(id="ruta-partner-1", role=Role.PARTNER, institution_id="inst-1", auth=auth)


def test_which_account_a_token_stands_for() -> None:
    assert account_of(staff()) == ("user", "u-1")
    assert account_of(partner()) == ("partner", "inst-1")
    people = Principal(id="u-9", role=Role.PARTNER, institution_id="inst-1", auth="password")
    assert account_of(people) == ("user", "u-9")  # a partner institution's person
    assert account_of(staff("oidc")) is None
    assert account_of(partner("api_key")) is None  # checked on every request already


def test_a_token_is_valid_only_for_the_current_version_of_an_active_account() -> None:
    assert token_still_valid(3, AccountState(exists=True, active=True, version=3))
    assert not token_still_valid(2, AccountState(exists=True, active=True, version=3))
    assert not token_still_valid(3, AccountState(exists=True, active=False, version=3))
    assert not token_still_valid(0, AccountState(exists=False))


class CountingCollection:
    """Stands in for the users collection: one document, and how often it was read."""

    def __init__(self, document: dict[str, Any] | None) -> None:
        self.document = document
        self.reads = 0

    async def find_one(self, query: dict[str, Any], projection: Any) -> dict[str, Any] | None:
        self.reads += 1
        return self.document


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_account_states_are_read_once_per_cache_period_and_then_again() -> None:
    users = CountingCollection({"_id": "u-1", "disabled": False, "token_version": 4})
    clock = Clock()
    states = AccountStates(
        lambda: {"users": users},  # type: ignore[arg-type,return-value]
        cache_seconds=2.0,
        accept_unversioned=False,
        clock=clock,
    )
    assert await states.still_valid(staff(), 4)
    assert await states.still_valid(staff(), 4)
    assert users.reads == 1
    users.document = {"_id": "u-1", "disabled": True, "token_version": 5}
    clock.now += 1.9
    assert await states.still_valid(staff(), 4)  # still cached
    clock.now += 0.2
    assert not await states.still_valid(staff(), 4)
    assert users.reads == 2


async def test_tokens_without_a_version_pass_only_on_the_local_default() -> None:
    users = CountingCollection(None)
    local = AccountStates(
        lambda: {"users": users},  # type: ignore[arg-type,return-value]
        cache_seconds=2.0,
        accept_unversioned=True,
    )
    elsewhere = AccountStates(
        lambda: {"users": users},  # type: ignore[arg-type,return-value]
        cache_seconds=2.0,
        accept_unversioned=False,
    )
    assert await local.still_valid(staff(), None)
    assert not await elsewhere.still_valid(staff(), None)
    assert not await local.still_valid(staff(), 0)  # versioned, but the account is gone
    assert await elsewhere.still_valid(partner("api_key"), None)
    assert users.reads == 1
