"""FastAPI dependency aliases of intake's routes: runtime, path ids, headers, paging, POST once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from ruta_shared.api import (
    IdempotencyStore,
    PageParams,
    etag,
    idempotency_key,
    if_match_version,
    page_params,
)
from ruta_shared.events.catalog.security import AccessPurpose
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.principal import Principal

from ruta_intake.bodies import MAX_ID_LENGTH
from ruta_intake.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The running app's Runtime (built by the composition root at startup)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
IfMatch = Annotated[int, Depends(if_match_version)]
Paging = Annotated[PageParams, Depends(page_params)]
Purpose = Annotated[
    AccessPurpose, Query(description="Para qué se leen los datos (queda registrado).")
]
CaseId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
VictimId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
RelativeId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
ConsentId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
VictimFilter = Annotated[str | None, Query(max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]


def no_store(response: Response) -> None:
    """Responses holding personal data are never cached (browsers, proxies)."""
    response.headers["Cache-Control"] = "no-store"


# `dependencies=[NoStore]` on every route whose response holds personal data.
NoStore = Depends(no_store)

Outcome = tuple[BaseModel, int]


@dataclass(frozen=True)
class OncePerKey:
    """Runs a POST once per Idempotency-Key (replaying its answer) and adds the case's ETag."""

    store: IdempotencyStore
    key: str | None

    async def __call__(
        self,
        *,
        principal: Principal,
        scope: str,
        request: Any,
        run: Callable[[], Awaitable[Outcome]],
        status: int = 201,
    ) -> JSONResponse:
        """The answer of `run()` (the result and the case version it left), or its replay."""
        versions: list[int] = []

        async def operation() -> tuple[int, Any]:
            result, version = await run()
            versions.append(version)
            return status, result.model_dump(mode="json")

        response = await self.store.run(
            scope=f"{principal.id}:{scope}", key=self.key, request=request, operation=operation
        )
        if versions:
            response.headers["ETag"] = etag(versions[0])
        return response


def once_per_key(runtime: RuntimeDep, key: IdempotencyKey) -> OncePerKey:
    """FastAPI dependency: the caller's Idempotency-Key bound to the app's idempotency store."""
    return OncePerKey(runtime.idempotency, key)


Once = Annotated[OncePerKey, Depends(once_per_key)]


def request_body(model: BaseModel | None) -> Any:
    """What a POST's fingerprint is made of: the fields the caller sent."""
    return model.model_dump(mode="json", exclude_unset=True) if model is not None else None
