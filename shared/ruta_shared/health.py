"""Liveness and readiness checks: /healthz answers while the process runs, /readyz checks deps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

Check = Callable[[], Awaitable[bool]]


class HealthRead(BaseModel):
    """Body of /healthz."""

    status: str
    service: str


class ReadinessRead(BaseModel):
    """Body of /readyz: overall status and each dependency's."""

    status: str
    checks: dict[str, str]


def health_router(service: str, checks: dict[str, Check], timeout: float) -> APIRouter:
    """Routes /healthz and /readyz for a service with the given readiness checks."""
    router = APIRouter(tags=["salud"])

    @router.get("/healthz", response_model=HealthRead)
    async def healthz() -> HealthRead:
        """The process is up."""
        return HealthRead(status="ok", service=service)

    @router.get("/readyz", response_model=ReadinessRead, responses={503: {"model": ReadinessRead}})
    async def readyz() -> JSONResponse:
        """Kafka and the database are reachable."""
        results = await asyncio.gather(*(_run(check, timeout) for check in checks.values()))
        body = ReadinessRead(
            status="ok" if all(results) else "unavailable",
            checks={
                name: "ok" if ok else "unavailable"
                for name, ok in zip(checks, results, strict=True)
            },
        )
        return JSONResponse(body.model_dump(), status_code=200 if all(results) else 503)

    return router


async def _run(check: Check, timeout: float) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout)
    except Exception:
        return False
