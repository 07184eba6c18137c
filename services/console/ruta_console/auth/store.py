"""The in-process session store: random ids, idle expiry, a size bound, rotation at login."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from datetime import UTC, datetime

from ruta_console.auth.models import Session


class SessionStore:
    """Sessions by id, least recently used first; the id is 256 random bits, nothing else."""

    def __init__(self, *, idle_seconds: float, max_sessions: int) -> None:
        self._idle = idle_seconds
        self._max = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def new(self) -> Session:
        """A fresh anonymous session (it holds a CSRF secret for the login form)."""
        while len(self._sessions) >= self._max:
            self._sessions.popitem(last=False)
        session = Session(
            id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), last_seen=time.monotonic()
        )
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id; expired ones (idle, or their token ended) are dropped."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        token_over = session.expires_at is not None and session.expires_at <= datetime.now(UTC)
        if now - session.last_seen > self._idle or token_over:
            self.drop(session.id)
            return None
        session.last_seen = now
        self._sessions.move_to_end(session.id)
        return session

    def rotate(self, session: Session) -> Session:
        """Replace a session by a new id and CSRF secret (at login: no fixation)."""
        self.drop(session.id)
        fresh = self.new()
        fresh.flashes = session.flashes
        return fresh

    def drop(self, session_id: str) -> None:
        """Forget a session (logout, expiry, the services refused its token)."""
        self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
