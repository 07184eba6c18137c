"""Route of the attendance sheet import (CSV or XLSX upload)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import JSONResponse
from ruta_shared.api import FieldError, idempotency_key

from ruta_training.deps import PiiWriter, RuntimeDep, SessionId
from ruta_training.imports import service
from ruta_training.imports.models import ImportReport

router = APIRouter(prefix="/sessions", tags=["importación"])


@router.post("/{session_id}/attendance/import", response_model=ImportReport)
async def import_attendance(
    session_id: SessionId,
    file: Annotated[UploadFile, File(description="Hoja de asistencia (.xlsx o .csv)")],
    runtime: RuntimeDep,
    who: PiiWriter,
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    """Import an attendance sheet: valid rows recorded once, bad rows reported by number."""
    limit = runtime.settings.import_max_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise FieldError("file", f"el archivo supera {limit // 1000} kB")
    if not content:
        raise FieldError("file", "el archivo está vacío")
    filename = file.filename or "hoja.csv"

    async def operation() -> tuple[int, Any]:
        report = await service.import_attendance(
            runtime=runtime,
            principal=who,
            session_id=session_id,
            filename=filename,
            content=content,
        )
        return 200, report.model_dump(mode="json")

    return await runtime.idempotency.run(
        scope=f"{who.id}:import_attendance",
        key=key,
        request={"session_id": session_id, "sha256": hashlib.sha256(content).hexdigest()},
        operation=operation,
    )
