"""Password hashing with argon2 and the login backoff schedule."""

from __future__ import annotations

import pytest
from ruta_shared.security.issuer import login_delay
from ruta_shared.security.passwords import (
    WeakPasswordError,
    hash_password,
    needs_rehash,
    verify_password,
)
from ruta_shared.security.users import normalise_username, username_fingerprint


def test_hash_and_verify() -> None:
    hashed = hash_password("una clave bastante larga")
    assert hashed.startswith("$argon2id$")
    assert "larga" not in hashed
    assert verify_password(hashed, "una clave bastante larga")
    assert not verify_password(hashed, "una clave bastante largA")
    assert not needs_rehash(hashed)
    assert hash_password("una clave bastante larga") != hashed  # salted


def test_unknown_user_never_verifies() -> None:
    assert not verify_password(None, "ruta-dummy-password-for-timing")
    assert not verify_password("not a hash", "whatever")


def test_password_policy() -> None:
    with pytest.raises(WeakPasswordError, match="al menos 12"):
        hash_password("corta")
    with pytest.raises(WeakPasswordError):
        hash_password("x" * 2000)


def test_usernames_compare_case_insensitively_and_log_as_hashes() -> None:
    assert normalise_username("  Ana.Q ") == "ana.q"
    assert username_fingerprint("Ana.Q") == username_fingerprint("ana.q")
    assert "ana" not in username_fingerprint("ana.q")


def test_login_delay_is_free_at_first_then_doubles_up_to_a_cap() -> None:
    delays = [login_delay(n, free=3, base=2.0, cap=60.0) for n in range(1, 10)]
    assert delays == [0.0, 0.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
