"""Pure rules of resolving a suspected duplicate: moving attendance, marking the merged record
and the duplicate's resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ruta_shared.aggregate import Change
from ruta_shared.events.catalog.training import (
    TrainingAttendanceMoved,
    TrainingDuplicateResolved,
    TrainingParticipantMerged,
)

from ruta_training.sessions.rules import conflict, merge_attendance

Document = dict[str, Any]


def plan_move(doc: Document, old: str, new: str) -> Change[None]:
    """Move a session's attendance (and scores and certificate) of `old` to `new`.

    When both attended, their hours and modules merge as a repeat attendance would; the
    kept person's own scores and certificate win, and a certificate of `old` that cannot
    move stays where it is, so its code still verifies.
    """
    attendance: dict[str, Any] = doc.get("attendance", {})
    moved = attendance.get(old)
    if moved is None:
        return Change()
    current = attendance.get(new)
    entry = moved
    if current is not None:
        module_hours = [float(m["hours"]) for m in doc.get("modules", [])]
        modules = [int(n) for n in moved.get("modules", [])]
        merged = merge_attendance(current, float(moved["hours"]), modules, module_hours)
        entry = current if merged is None else {**current, "hours": merged[0], "modules": merged[1]}
    sets: dict[str, Any] = {f"attendance.{new}": entry}
    unsets: dict[str, str] = {f"attendance.{old}": ""}
    for name in ("assessments", "certificates"):
        held: dict[str, Any] = doc.get(name, {})
        if old in held and new not in held:
            sets[f"{name}.{new}"] = held[old]
            unsets[f"{name}.{old}"] = ""
        elif old in held and name == "assessments":
            unsets[f"{name}.{old}"] = ""
    event = TrainingAttendanceMoved(
        session_id=doc["_id"],
        from_participant_id=old,
        to_participant_id=new,
        hours_attended=float(entry["hours"]),
    )
    return Change({"$set": sets, "$unset": unsets}, [event])


def plan_merged(doc: Document, into: str, duplicate_id: str, now: datetime) -> Change[None]:
    """Mark a participant as merged into another (once; into another one: 409)."""
    if doc.get("merged_into") == into:
        return Change()
    if doc.get("merged_into"):
        raise conflict("Ese participante ya fue unido a otro.")
    event = TrainingParticipantMerged(
        participant_id=doc["_id"], merged_into=into, duplicate_id=duplicate_id, merged_at=now
    )
    return Change({"$set": {"merged_into": into, "merged_at": now}}, [event])


def plan_resolve(
    doc: Document,
    resolution: Literal["merged", "distinct"],
    kept: str | None,
    by: str,
    now: datetime,
) -> Change[None]:
    """Record the coordinator's decision on a pending duplicate (the same decision again:
    no-op; a different one: 409)."""
    if doc["status"] != "pending":
        if doc["status"] == resolution and doc.get("kept_participant_id") == kept:
            return Change()
        raise conflict("Ese posible duplicado ya fue resuelto de otra manera.")
    event = TrainingDuplicateResolved(
        duplicate_id=doc["_id"],
        resolution=resolution,
        kept_participant_id=kept,
        resolved_at=now,
    )
    update = {
        "$set": {
            "status": resolution,
            "kept_participant_id": kept,
            "resolved_at": now,
            "resolved_by": by,
        }
    }
    return Change(update, [event])
