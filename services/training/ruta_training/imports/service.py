"""Bulk attendance import: a trainer's sheet in, participants and attendance recorded once.

Valid rows are imported and bad rows reported with their row numbers. The import is
idempotent: participants are found again by blind index and attendance is keyed by
session and participant, so uploading the same sheet again records nothing new.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from ruta_shared.api import FieldError, operation_derived_id
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_training.imports.models import ImportReport
from ruta_training.imports.sheet import SheetError, parse_sheet
from ruta_training.participants.service import register_many
from ruta_training.runtime import Runtime
from ruta_training.sessions.rules import AttendanceInput, ScoreInput, ensure_accepts_records
from ruta_training.sessions.service import load_session, record_participation

log = logging.getLogger(__name__)


async def import_attendance(
    *,
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    filename: str,
    content: bytes,
) -> ImportReport:
    """Import an attendance sheet into a session; returns the report (no personal data)."""
    settings = runtime.settings
    session = await load_session(runtime=runtime, principal=principal, session_id=session_id)
    # Under an Idempotency-Key the import id comes from the key: a re-run after a crash
    # answers the report its first attempt stored (the rows themselves record once anyway).
    derived = operation_derived_id("import")
    if derived is not None and (stored := await runtime.imports.find_one({"_id": derived})):
        fields = {k: v for k, v in stored.items() if k in ImportReport.model_fields}
        return ImportReport(import_id=derived, **fields)
    ensure_accepts_records(session)
    if len(content) > settings.import_max_bytes:
        raise FieldError("file", f"el archivo supera {settings.import_max_bytes // 1000} kB")
    try:
        sheet = parse_sheet(
            filename,
            content,
            pedagogic_hours=float(session["pedagogic_hours"]),
            office=session["office"],
            max_rows=settings.import_max_rows,
        )
    except SheetError as exc:
        raise FieldError("file", str(exc)) from None
    digest = hashlib.sha256(content).hexdigest()
    previous = await runtime.imports.find_one(
        {"session_id": session_id, "file_sha256": digest}, {"_id": 1}, sort=[("created_at", 1)]
    )
    registered = await register_many(
        runtime=runtime, principal=principal, people=[row.person for row in sheet.rows]
    )
    attendances = [
        AttendanceInput(
            participant_id=who.participant_id, attributes=who.attributes, hours=row.hours
        )
        for row, who in zip(sheet.rows, registered, strict=True)
    ]
    scores = [
        ScoreInput(participant_id=who.participant_id, pre=row.pre_score, post=row.post_score)
        for row, who in zip(sheet.rows, registered, strict=True)
        if row.pre_score is not None and row.post_score is not None
    ]
    outcome = await record_participation(
        runtime=runtime,
        principal=principal,
        session_id=session_id,
        attendances=attendances,
        scores=scores,
    )
    duplicate_rows = {d.row for d in sheet.duplicates}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row, read in zip(sheet.rows, outcome.attendance, strict=True):
        if row.row not in duplicate_rows:
            counts[read.recorded or "unchanged"] += 1
    report = ImportReport(
        import_id=derived or str(uuid7()),
        session_id=session_id,
        file_sha256=digest,
        previous_import_id=previous["_id"] if previous else None,
        rows_total=sheet.rows_total,
        rows_imported=counts["created"],
        rows_updated=counts["updated"],
        rows_already_recorded=counts["unchanged"],
        rows_duplicated=len(duplicate_rows),
        rows_with_errors=sheet.rows_with_errors,
        participants_created=len({w.participant_id for w in registered if w.created}),
        participants_possible_duplicates=len(
            {w.participant_id for w in registered if w.possible_duplicate}
        ),
        assessments_recorded=sum(1 for s in outcome.scores if s != "unchanged"),
        errors=sheet.errors,
        duplicates=sheet.duplicates,
    )
    await runtime.imports.insert_one(
        {
            "_id": report.import_id,
            **report.model_dump(mode="json", exclude={"import_id"}),
            "created_at": datetime.now(UTC),
            "created_by": principal.id,
        }
    )
    log.info(
        "attendance sheet imported",
        extra={
            "session_id": session_id,
            "import_id": report.import_id,
            "rows_total": report.rows_total,
            "rows_imported": report.rows_imported,
            "rows_with_errors": report.rows_with_errors,
        },
    )
    return report
