"""The training pages' reads: a session with its attendance, head counts and tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ruta_console.auth.models import Session
from ruta_console.calls import call
from ruta_console.errors import RefusedError
from ruta_console.runtime import Runtime
from ruta_console.upstream import Service


@dataclass(frozen=True)
class SessionView:
    """Everything the session page shows."""

    session: dict[str, Any]
    attendance: list[dict[str, Any]]
    headcounts: list[dict[str, Any]]
    assessments: list[dict[str, Any]]


async def read_session(*, runtime: Runtime, session: Session, session_id: str) -> SessionView:
    """The training session, its attendance, head counts and tests, read together."""

    def get(path: str, **params: Any) -> Any:
        return call(
            runtime=runtime,
            session=session,
            service=Service.TRAINING,
            method="GET",
            path=f"/sessions/{session_id}{path}",
            params=params,
        )

    main, attendance, headcounts, assessments = await asyncio.gather(
        get(""), get("/attendance", limit=100), get("/headcounts"), get("/assessments", limit=100)
    )
    if not main.ok:
        raise RefusedError(main)

    def items(answer: Any) -> list[dict[str, Any]]:
        if not answer.ok:
            return []
        body = answer.body
        return list(body["items"] if isinstance(body, dict) else body)

    return SessionView(main.body, items(attendance), items(headcounts), items(assessments))
