"""The correlation id of the work in progress, carried from HTTP header to event and back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from uuid6 import uuid7

CORRELATION_HEADER = "X-Correlation-ID"

_correlation_id: ContextVar[str | None] = ContextVar("ruta_correlation_id", default=None)


def current_correlation_id() -> str:
    """The id of the request or event being handled, or a fresh one outside of any."""
    value = _correlation_id.get()
    return value if value is not None else str(uuid7())


def peek_correlation_id() -> str | None:
    """The id in scope, without inventing one (for logs)."""
    return _correlation_id.get()


def set_correlation_id(correlation_id: str) -> Token[str | None]:
    """Put `correlation_id` in scope; pass the token to `reset_correlation_id` (hot paths)."""
    return _correlation_id.set(correlation_id)


def reset_correlation_id(token: Token[str | None]) -> None:
    """Restore the correlation id that was in scope before `set_correlation_id`."""
    _correlation_id.reset(token)


@contextmanager
def correlation_scope(correlation_id: str) -> Iterator[str]:
    """Run a block with `correlation_id` in scope."""
    token = _correlation_id.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation_id.reset(token)
