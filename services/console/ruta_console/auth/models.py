"""What the console keeps about a browser session, server-side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ruta_shared.security.principal import Role


@dataclass(frozen=True)
class Account:
    """Who is logged in, as the services' /me tells it (never a name beyond the username)."""

    username: str
    user_id: str
    role: Role
    offices: tuple[str, ...]
    institution_id: str | None = None


@dataclass
class Session:
    """One browser's session: its CSRF secret and, once logged in, the user's bearer token."""

    id: str  # the cookie's value: only its hash is stored (see auth.store)
    csrf: str
    seen_at: datetime
    token: str | None = None
    expires_at: datetime | None = None
    account: Account | None = None
    # Messages shown once on the next page (after a POST/redirect/GET).
    flashes: list[tuple[str, str]] = field(default_factory=list)
    # What the store last read or wrote: it writes only what changed (None: never written).
    stored: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def flash(self, kind: str, message: str) -> None:
        """Queue a message ("ok", "warning" or "error") for the next page."""
        self.flashes.append((kind, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        """The queued messages, once."""
        flashes, self.flashes = self.flashes, []
        return flashes
