"""The session store in the console's MongoDB database: every replica sees every session."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pymongo.asynchronous.collection import AsyncCollection
from ruta_shared.security.principal import Role

from ruta_console.auth.models import Account, Session

log = logging.getLogger(__name__)

Doc = dict[str, Any]
# Seen-at is written again only when older than this: not one write per page view.
TOUCH_EVERY: Final = timedelta(seconds=60)
# Expired sessions are deleted in one pass at most this often per process (a full scan).
PURGE_EVERY: Final = timedelta(seconds=60)


def session_key(cookie: str) -> str:
    """The document's `_id`: a hash of the cookie's value (the value itself is never stored)."""
    return hashlib.sha256(b"ruta-console-session\x00" + cookie.encode()).hexdigest()


def _cipher(cookie: str) -> AESGCM:
    """A key only the browser's cookie gives: the database alone never yields a bearer token."""
    return AESGCM(hashlib.sha256(b"ruta-console-secrets\x00" + cookie.encode()).digest())


def seal(cookie: str, secrets_: dict[str, str | None]) -> str:
    """The session's CSRF secret and bearer token, encrypted with the cookie's key."""
    nonce = secrets.token_bytes(12)
    sealed = _cipher(cookie).encrypt(
        nonce, json.dumps(secrets_).encode(), session_key(cookie).encode()
    )
    return base64.b64encode(nonce + sealed).decode()


def unseal(cookie: str, sealed: str) -> dict[str, str | None] | None:
    """The secrets back, or None when they do not open with this cookie."""
    raw = base64.b64decode(sealed)
    try:
        plain = _cipher(cookie).decrypt(raw[:12], raw[12:], session_key(cookie).encode())
    except InvalidTag:
        return None
    opened: dict[str, str | None] = json.loads(plain)
    return opened


def _fields(session: Session) -> Doc:
    """What is stored of a session, before sealing (compared with the last write)."""
    return {
        "csrf": session.csrf,
        "token": session.token,
        "seen_at": session.seen_at,
        "expires_at": session.expires_at,
        "account": None if session.account is None else asdict(session.account),
        "flashes": [{"kind": kind, "message": message} for kind, message in session.flashes],
    }


class SessionStore:
    """Sessions by the hash of their cookie; idle and token expiry; a bound on their number."""

    def __init__(
        self, collection: AsyncCollection[Doc], *, idle_seconds: float, max_sessions: int
    ) -> None:
        self._sessions = collection
        self._idle = timedelta(seconds=idle_seconds)
        self._max = max_sessions
        self._purged = datetime.min.replace(tzinfo=UTC)

    async def new(self) -> Session:
        """A fresh anonymous session (it holds a CSRF secret for the login form)."""
        await self._bound()
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            seen_at=datetime.now(UTC),
        )
        await self.save(session)
        return session

    async def get(self, cookie: str | None) -> Session | None:
        """The live session of this cookie; an expired one (idle, token ended) is deleted."""
        if not cookie or len(cookie) > 100:
            return None
        doc = await self._sessions.find_one({"_id": session_key(cookie)})
        if doc is None:
            return None
        now = datetime.now(UTC)
        opened = unseal(cookie, doc["sealed"])
        over = doc["seen_at"] + self._idle <= now or (
            doc["expires_at"] is not None and doc["expires_at"] <= now
        )
        if opened is None or over:
            await self.drop(cookie)
            return None
        account = doc["account"]
        session = Session(
            id=cookie,
            csrf=str(opened["csrf"]),
            seen_at=doc["seen_at"],
            token=opened["token"],
            expires_at=doc["expires_at"],
            account=None
            if account is None
            else Account(
                username=account["username"],
                user_id=account["user_id"],
                role=Role(account["role"]),
                offices=tuple(account["offices"]),
                institution_id=account["institution_id"],
            ),
            flashes=[(flash["kind"], flash["message"]) for flash in doc["flashes"]],
        )
        session.stored = _fields(session)
        if now - session.seen_at >= TOUCH_EVERY:
            session.seen_at = now
        return session

    async def save(self, session: Session) -> None:
        """Write what changed since the session was read or last written (nothing: no write)."""
        fields = _fields(session)
        stored = session.stored
        changed = (
            fields
            if stored is None
            else {name: value for name, value in fields.items() if stored.get(name) != value}
        )
        if not changed:
            return
        update: Doc = {
            name: value for name, value in changed.items() if name not in {"csrf", "token"}
        }
        if {"csrf", "token"} & changed.keys():
            update["sealed"] = seal(session.id, {"csrf": session.csrf, "token": session.token})
        update["purge_at"] = max(
            fields["seen_at"] + self._idle, fields["expires_at"] or fields["seen_at"]
        )
        await self._sessions.update_one(
            {"_id": session_key(session.id)}, {"$set": update}, upsert=True
        )
        session.stored = fields

    async def rotate(self, session: Session) -> Session:
        """Replace a session by a new id and CSRF secret (at login: no fixation)."""
        await self.drop(session.id)
        fresh = await self.new()
        fresh.flashes = session.flashes
        return fresh

    async def drop(self, cookie: str) -> None:
        """Forget a session on every replica (logout, expiry, the services refused its token)."""
        await self._sessions.delete_one({"_id": session_key(cookie)})

    async def _bound(self) -> None:
        """Delete expired sessions now and then; over the bound, anonymous ones go first."""
        now = datetime.now(UTC)
        if now - self._purged < PURGE_EVERY and (
            await self._sessions.estimated_document_count() < self._max
        ):
            return
        self._purged = now
        await self._sessions.delete_many({"purge_at": {"$lte": now}})
        if await self._sessions.estimated_document_count() >= self._max:
            # Login forms not sent yet: their owners are asked to send them again.
            gone = await self._sessions.delete_many({"account": None})
            log.warning("session bound reached", extra={"anonymous_dropped": gone.deleted_count})
