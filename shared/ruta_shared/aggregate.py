"""The one change loop of every aggregate: load by `_id`, apply a pure change, write it with its
events in one compare-and-set update through the outbox, retry when another writer won.

A service describes a change as a function of the current document that returns a `Change`
(the update, its events and what the caller gets back) or raises `RuleViolationError`, the one
error type the API turns into a 4xx naming the field. `Aggregates.change` does the rest, the
same way in every service:

    cases = Aggregates(collection=db["cases"], outbox=outbox, name="case")
    result, version = await cases.change(
        case_id, actor=principal.actor, apply=lambda doc: Change(update, [event], result)
    )

With `expected_version` (a client's If-Match) a concurrent change is the client's to resolve:
412 instead of a retry. Without it the change is planned again on the fresh document, whose
rules the change function checks again, so a repeated request is a no-op rather than a double.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pymongo.asynchronous.collection import AsyncCollection

from ruta_shared.api import FIELD_ERRORS_DETAIL, problem, version_conflict
from ruta_shared.events import Actor, EventData
from ruta_shared.outbox import (
    OUTBOX_FIELD,
    PENDING_FIELD,
    SEQUENCE_FIELD,
    ConcurrencyConflictError,
    Outbox,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Document = dict[str, Any]
# What a read of an aggregate hides from callers: the events waiting for the relay.
HIDDEN_FIELDS: dict[str, Any] = {OUTBOX_FIELD: 0, PENDING_FIELD: 0}
BUSY_DETAIL = "El recurso está recibiendo muchos cambios a la vez: vuelva a intentarlo."
RULE_DETAIL = "La operación no es posible en el estado actual: revise el campo indicado."


class RuleViolationError(Exception):
    """A domain rule refused the change: answered as a 4xx in Spanish, naming the field.

    `field` is the input at fault (`body.office`, `victim_id`); without one the answer is a
    plain `{"detail": message}` (with `code` when given, for clients that branch on it);
    `kind` is the `type` of the field error ("rule" by default); `extra` adds keys to the body
    (never personal data: the current status of a referral, say).
    """

    def __init__(
        self,
        field: str | None,
        message: str,
        *,
        status_code: int = 422,
        code: str | None = None,
        kind: str = "rule",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.status_code = status_code
        self.code = code
        self.kind = kind
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The response body, in the error envelope every service documents."""
        if self.field is None:
            body: dict[str, Any] = {"detail": self.message}
        else:
            detail = FIELD_ERRORS_DETAIL if self.status_code == 422 else RULE_DETAIL
            body = {
                "detail": detail,
                "errors": [{"field": self.field, "type": self.kind, "message": self.message}],
            }
        if self.code is not None:
            body["code"] = self.code
        return {**self.extra, **body}


async def rule_violation_handler(_: Request, exc: Exception) -> JSONResponse:
    """The exception handler `create_service_app` installs for RuleViolationError."""
    assert isinstance(exc, RuleViolationError)
    return JSONResponse(exc.body(), status_code=exc.status_code)


@dataclass(frozen=True)
class Change(Generic[T]):
    """What one change does: the update, its events (none: nothing is written), the result."""

    update: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    events: Sequence[EventData] = ()
    result: T = None  # type: ignore[assignment]


ApplyFn = Callable[[Document], "Change[T] | Awaitable[Change[T]]"]
CheckFn = Callable[[Document], Awaitable[None]]


@dataclass(frozen=True)
class Changed(Generic[T]):
    """The outcome of a change: the function's result and the aggregate's version after it."""

    result: T
    version: int
    written: bool


class Aggregates:
    """The documents of one aggregate type in one collection, changed only through `change`."""

    def __init__(
        self,
        *,
        collection: AsyncCollection[Document],
        outbox: Outbox,
        name: str,
        attempts: int = 5,
        not_found: Callable[[], Exception] | None = None,
        busy_detail: str = BUSY_DETAIL,
    ) -> None:
        self.collection = collection
        self.outbox = outbox
        self.name = name
        self.attempts = attempts
        self.busy_detail = busy_detail
        self._not_found = not_found or (lambda: problem(404, "No encontrado."))

    async def get(self, doc_id: str) -> Document | None:
        """The document by `_id` without its pending events, or None."""
        return await self.collection.find_one({"_id": doc_id}, HIDDEN_FIELDS)

    async def load(self, doc_id: str) -> Document:
        """The document by `_id`; the service's 404 when it does not exist."""
        doc = await self.get(doc_id)
        if doc is None:
            raise self._not_found()
        return doc

    async def insert(
        self,
        document: Document,
        *,
        events: Sequence[EventData],
        actor: Actor,
        causation_id: str | None = None,
    ) -> int:
        """Insert a new aggregate with its first events; returns its version."""
        envelopes = await self.outbox.insert(
            self.collection,
            document,
            subject=str(document["_id"]),
            payloads=events,
            actor=actor,
            causation_id=causation_id,
        )
        return len(envelopes)

    async def change(
        self,
        doc_id: str,
        *,
        apply: ApplyFn[T],
        actor: Actor,
        expected_version: int | None = None,
        check: CheckFn | None = None,
        causation_id: str | None = None,
    ) -> Changed[T]:
        """Load, `check` (access: raise to refuse), apply, write with the events; retry if raced.

        `apply` may be a plain function or a coroutine function; it must not write anything
        itself, since it may run more than once.
        """
        for attempt in range(self.attempts):
            doc = await self.load(doc_id)
            if check is not None:
                await check(doc)
            version = int(doc.get(SEQUENCE_FIELD, 0))
            if expected_version is not None and version != expected_version:
                raise version_conflict()
            planned = apply(doc)
            change = await planned if inspect.isawaitable(planned) else planned
            if not change.events:
                return Changed(change.result, version, written=False)
            try:
                envelopes = await self.outbox.update(
                    self.collection,
                    doc_id=doc_id,
                    expected_sequence=version,
                    update=change.update,
                    subject=doc_id,
                    payloads=change.events,
                    actor=actor,
                    causation_id=causation_id,
                )
            except ConcurrencyConflictError:
                if expected_version is not None:
                    raise version_conflict() from None
                # Another writer won: back off a little (jittered) and plan again on fresh data.
                await asyncio.sleep(secrets.randbelow(10 * (attempt + 1)) / 1000)
                continue
            return Changed(change.result, envelopes[-1].sequence, written=True)
        log.warning("change gave up after retries", extra={"aggregate": self.name})
        raise problem(409, self.busy_detail)
