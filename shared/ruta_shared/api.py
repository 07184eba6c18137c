"""HTTP API conventions every service shares: field errors, pagination, Idempotency-Key, ETags."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from ruta_shared.mongo import database_unavailable

T = TypeVar("T")
Document = dict[str, Any]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
FIELD_ERRORS_DETAIL = "Datos no válidos: revise los campos indicados."


class FieldErrorItem(BaseModel):
    """One rejected field of an error answer: where, which kind of error, and why (Spanish)."""

    field: str
    type: str
    message: str


class ErrorResponse(BaseModel):
    """The body of every 4xx answer of every service, as their OpenAPI documents declare it.

    `detail` is a Spanish sentence users may read; `errors` names the fields at fault;
    `code` says which rule refused the request; some answers add ids (extra keys).
    """

    model_config = ConfigDict(extra="allow")

    detail: str
    errors: list[FieldErrorItem] | None = None
    code: str | None = None


class FieldError(HTTPException):
    """A 4xx naming the offending field, in the same shape as request validation errors."""

    def __init__(self, field: str, message: str, *, status_code: int = 422, kind: str = "invalid"):
        super().__init__(
            status_code=status_code,
            detail={
                "detail": FIELD_ERRORS_DETAIL,
                "errors": [{"field": field, "type": kind, "message": message}],
            },
        )


def problem(status_code: int, detail: str, **extra: Any) -> HTTPException:
    """An HTTPException whose body is `{"detail": <Spanish sentence>, ...extra}`."""
    return HTTPException(status_code=status_code, detail={"detail": detail, **extra})


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, the total matching, and where this page starts."""

    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    """Pagination query parameters (limit 1 to 100, default 20)."""

    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Elementos por página")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Desde el elemento")] = 0,
) -> PageParams:
    """FastAPI dependency for `?limit=&offset=`."""
    return PageParams(limit=limit, offset=offset)


def etag(version: int) -> str:
    """The ETag of a resource at a version (its event sequence)."""
    return f'"{version}"'


def if_match_version(
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description="ETag leído antes de modificar (control de versión)"),
    ] = None,
) -> int:
    """FastAPI dependency: the version the client read; 428 when missing, 422 when malformed."""
    if if_match is None:
        raise problem(
            428,
            "Falta la cabecera If-Match: lea el recurso y envíe su ETag para no sobrescribir "
            "cambios de otra persona.",
        )
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise FieldError("If-Match", "debe ser el ETag devuelto al leer el recurso", kind="header")
    return int(value)


def version_conflict() -> HTTPException:
    """412: the resource changed since the client read it."""
    return problem(
        412,
        "El recurso fue modificado por otra persona desde que lo leyó: vuelva a leerlo y "
        "repita el cambio.",
    )


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description="Clave única por operación: un reintento con la misma clave no "
            "crea nada dos veces",
            min_length=8,
            max_length=100,
            pattern=r"^[A-Za-z0-9_.:-]+$",
        ),
    ] = None,
) -> str | None:
    """FastAPI dependency for the optional Idempotency-Key header."""
    return key


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body (to tell a retry from a different request)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


Operation = Callable[[], Awaitable[tuple[int, Any]]]

# The (scope, key) of the keyed POST running in this task, for operations that derive
# their ids from it (so that a re-run after a crash finds what the first attempt wrote).
_current_operation: ContextVar[str | None] = ContextVar("ruta_idempotent_operation", default=None)
_OPERATION_NAMESPACE = uuid.UUID("6f1d5a52-3c1e-4c53-9a3e-2d61c7a0b9e4")


def operation_derived_id(kind: str) -> str | None:
    """An id for `kind` fixed by the running POST's Idempotency-Key (None without a key).

    Every attempt of one (caller, key) gets the same id, so an operation can check what
    an earlier attempt (one that crashed, or lost its answer) already wrote.
    """
    operation = _current_operation.get()
    if operation is None:
        return None
    return str(uuid.uuid5(_OPERATION_NAMESPACE, f"{kind}:{operation}"))


class IdempotencyStore:
    """Remembers the outcome of POSTs by (caller, key) so a retried request creates nothing twice.

    A claim holds a lease: if its process dies (or loses the database) before it records
    the outcome, a retry after the lease expires takes the claim over (compare-and-set on
    the claim's token) and runs the operation again, which must then finish what the first
    attempt began rather than do it twice (see `operation_derived_id`).

    Stored responses must not contain personal data: POST responses in Ruta return ids and
    non-identifying attributes only (personal data is read through audited GETs).
    """

    def __init__(self, collection: AsyncCollection[Document], *, lease_seconds: float = 30.0):
        self._collection = collection
        self._lease = timedelta(seconds=lease_seconds)

    async def run(
        self, *, scope: str, key: str | None, request: Any, operation: Operation
    ) -> JSONResponse:
        """Run `operation` once per (scope, key); replay its stored response on retries."""
        if key is None:
            status, body = await operation()
            return JSONResponse(body, status_code=status)
        doc_id = f"{scope}:{key}"
        digest = fingerprint(request)
        token = uuid.uuid4().hex
        try:
            await self._collection.insert_one(
                {
                    "_id": doc_id,
                    "fingerprint": digest,
                    "state": "running",
                    "at": datetime.now(UTC),
                    "token": token,
                    "lease_until": datetime.now(UTC) + self._lease,
                }
            )
        except DuplicateKeyError:
            claimed = await self._take_over_or_replay(doc_id, digest, token)
            if isinstance(claimed, JSONResponse):
                return claimed
        reset = _current_operation.set(doc_id)
        try:
            status, body = await operation()
        except BaseException as exc:
            # Release the key so that a retry runs at once (the operation finishes what this
            # attempt wrote). Not while the database is unreachable: waiting for it again
            # would double the time to the 503; the lease lets a retry take over instead.
            if not database_unavailable(exc):
                with contextlib.suppress(PyMongoError):
                    await self._collection.delete_one({"_id": doc_id, "token": token})
            raise
        finally:
            _current_operation.reset(reset)
        await self._collection.update_one(
            {"_id": doc_id, "token": token},
            {"$set": {"state": "done", "status": status, "body": body}},
        )
        return JSONResponse(body, status_code=status)

    async def _take_over_or_replay(
        self, doc_id: str, digest: str, token: str
    ) -> JSONResponse | None:
        """The stored answer, or None once this attempt took over an expired claim."""
        stored = await self._collection.find_one({"_id": doc_id})
        if stored is None:  # the first attempt failed and released the key meanwhile
            raise problem(409, "La operación con esta Idempotency-Key se está reintentando.")
        if stored["fingerprint"] != digest:
            raise FieldError(
                IDEMPOTENCY_HEADER,
                "esta clave ya se usó con otra solicitud distinta",
                kind="idempotency_key_reused",
            )
        if stored["state"] == "done":
            response = JSONResponse(stored["body"], status_code=stored["status"])
            response.headers[REPLAY_HEADER] = "true"
            return response
        now = datetime.now(UTC)
        # Claims made before leases existed expire a lease after they were made.
        lease_until = stored.get("lease_until") or stored["at"] + self._lease
        if lease_until > now:
            wait = max(1, math.ceil((lease_until - now).total_seconds()))
            raise HTTPException(
                status_code=409,
                detail={"detail": "La operación con esta Idempotency-Key aún está en curso."},
                headers={"Retry-After": str(wait)},
            )
        taken = await self._collection.update_one(
            {"_id": doc_id, "state": "running", "token": stored.get("token")},
            {"$set": {"token": token, "lease_until": now + self._lease, "taken_over_at": now}},
        )
        if taken.modified_count != 1:  # another retry took it first
            raise problem(409, "La operación con esta Idempotency-Key aún está en curso.")
        return None
