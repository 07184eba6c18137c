"""The audit pages: choose a case, read its trail, verify it, read who accessed personal data."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from ruta_shared.ids import ID_PATTERN

from ruta_console.audit.rules import event_label, verdict
from ruta_console.calls import call
from ruta_console.deps import AuditReader, CaseId, RuntimeDep
from ruta_console.errors import RefusedError
from ruta_console.pages import redirect, render
from ruta_console.upstream import Answer, Service

router = APIRouter()


@router.get("/auditoria")
async def audit_home(
    *, request: Request, session: AuditReader, caso: str | None = Query(None, max_length=100)
) -> Response:
    """Choose the case whose trail to read (by its id)."""
    del session  # the role check is the dependency
    if caso:
        if re.fullmatch(ID_PATTERN, caso.strip()):
            return redirect(f"/auditoria/casos/{caso.strip()}")
        return render(
            request,
            "audit/home.html",
            title="Auditoría",
            status=422,
            errors={"caso": "El identificador no es válido."},
            values={"caso": caso},
        )
    return render(request, "audit/home.html", title="Auditoría")


@router.get("/auditoria/casos/{case_id}")
async def trail_page(
    *, request: Request, runtime: RuntimeDep, session: AuditReader, case_id: CaseId
) -> Response:
    """A case's trail: its stages, every entry, the verification and the access log."""

    def get(path: str) -> Awaitable[Answer]:
        return call(
            runtime=runtime, session=session, service=Service.ANALYTICS, method="GET", path=path
        )

    trail, checked, access = await asyncio.gather(
        get(f"/audit/trails/{case_id}"),
        get(f"/audit/trails/{case_id}/verify"),
        get(f"/audit/trails/{case_id}/access-log"),
    )
    if not trail.ok:
        raise RefusedError(trail)
    valid, sentence = verdict(checked.body if checked.ok else {})
    return render(
        request,
        "audit/trail.html",
        title="Registro de auditoría",
        case_id=case_id,
        trail=trail.body,
        valid=valid,
        sentence=sentence,
        access=access.body["entries"] if access.ok else [],
        event_label=event_label,
    )
