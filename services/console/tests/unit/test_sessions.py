"""The session store: random ids, rotation at login, idle and token expiry, a size bound."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ruta_console.auth.store import SessionStore


def test_sessions_rotate_and_expire() -> None:
    store = SessionStore(idle_seconds=60, max_sessions=3)
    first = store.new()
    assert store.get(first.id) is first
    assert store.get(None) is None
    assert store.get("unknown") is None
    first.flash("ok", "hola")
    rotated = store.rotate(first)
    assert rotated.id != first.id
    assert rotated.csrf != first.csrf
    assert store.get(first.id) is None
    assert rotated.take_flashes() == [("ok", "hola")]
    assert rotated.take_flashes() == []

    rotated.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert store.get(rotated.id) is None  # the token ended: so did the session

    idle = store.new()
    idle.last_seen = time.monotonic() - 61
    assert store.get(idle.id) is None


def test_the_store_is_bounded() -> None:
    store = SessionStore(idle_seconds=60, max_sessions=2)
    a, b = store.new(), store.new()
    store.get(a.id)  # a is now the most recently used
    c = store.new()
    assert len(store) == 2
    assert store.get(b.id) is None
    assert store.get(a.id) is a
    assert store.get(c.id) is c
