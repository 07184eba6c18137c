"""The session store's pure parts: the key hides the cookie; only the cookie opens secrets."""

from __future__ import annotations

import secrets

from ruta_console.auth.store import seal, session_key, unseal


def test_the_key_is_a_hash_of_the_cookie() -> None:
    cookie = secrets.token_urlsafe(32)
    key = session_key(cookie)
    assert key == session_key(cookie)
    assert cookie not in key
    assert key != session_key(secrets.token_urlsafe(32))
    assert len(key) == 64


def test_only_the_cookie_opens_the_secrets() -> None:
    cookie, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    sealed = seal(cookie, {"csrf": "c-secret", "token": "bearer-token"})
    assert "bearer-token" not in sealed
    assert "c-secret" not in sealed
    assert unseal(cookie, sealed) == {"csrf": "c-secret", "token": "bearer-token"}
    assert unseal(other, sealed) is None
    assert seal(cookie, {"csrf": "c", "token": None}) != seal(cookie, {"csrf": "c", "token": None})
