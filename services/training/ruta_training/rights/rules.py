"""Pure rules of data subjects' rights: what a rectification changes, and the erasure change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ruta_shared.aggregate import Change
from ruta_shared.events.catalog.training import (
    TrainingAttendanceRecorded,
    TrainingParticipantErased,
    TrainingParticipantRectified,
)

from ruta_training.participants.rules import ATTRIBUTES, PERSONAL_FIELDS
from ruta_training.sessions.rules import attendance_attributes, invalid

Document = dict[str, Any]
REQUIRED = frozenset({"given_names", "family_names"})


def changed_fields(
    doc: Document, plain: Mapping[str, str], stated: Mapping[str, Any]
) -> dict[str, Any]:
    """The stated fields whose value differs from the record's (None clears a field)."""
    if not stated:
        raise invalid("body", "indique al menos un dato a corregir")
    for name in sorted(REQUIRED & set(stated)):
        if stated[name] is None:
            raise invalid(name, "no puede quedar vacío")
    if stated.get("sex", "x") is None:
        raise invalid("sex", "indique el sexo o «unknown»")
    current: dict[str, Any] = {
        **{name: doc.get(name) for name in (*ATTRIBUTES, "document_type")},
        **{name: plain.get(name) for name in PERSONAL_FIELDS},
    }
    changes = {name: value for name, value in stated.items() if current.get(name) != value}
    after = {**current, **changes}
    if not after.get("document_number") and not after.get("email"):
        raise invalid(
            "document_number", "indique el número de documento o el correo para no duplicar"
        )
    return changes


def plan_rectify(
    doc: Document,
    *,
    changes: Mapping[str, Any],
    encrypted: Mapping[str, str],
    lookup: Sequence[str],
    now: datetime,
) -> Change[None]:
    """Write the corrected values (personal ones encrypted) and the names of the fields."""
    sets: dict[str, Any] = {"lookup": sorted(lookup)}
    unsets: dict[str, str] = {}
    for name, value in changes.items():
        if name not in PERSONAL_FIELDS:
            sets[name] = value
        elif value is None:
            unsets[f"pii.{name}"] = ""
        else:
            sets[f"pii.{name}"] = encrypted[name]
    fields = sorted(changes)
    update: dict[str, Any] = {
        "$set": sets,
        "$push": {"changes": {"action": "rectified", "fields": fields, "at": now}},
    }
    if unsets:
        update["$unset"] = unsets
    event = TrainingParticipantRectified(
        participant_id=doc["_id"],
        fields=fields,
        rectified_at=now,
    )
    return Change(update, [event])


def plan_reattribute(
    doc: Document, participant_id: str, corrected: Mapping[str, Any]
) -> Change[None]:
    """Correct the attributes a session recorded for a participant (reach counts the corrected
    values); the new attendance event replaces the earlier one, as a repeat would."""
    entry = doc.get("attendance", {}).get(participant_id)
    if entry is None:
        return Change()
    attributes = attendance_attributes(doc, {**entry, **corrected})
    if all(entry.get(name) == value for name, value in attributes.items()):
        return Change()
    event = TrainingAttendanceRecorded(
        session_id=doc["_id"],
        participant_id=participant_id,
        hours_attended=float(entry["hours"]),
        **attributes,
    )
    return Change({"$set": {f"attendance.{participant_id}": {**entry, **attributes}}}, [event])


def plan_erase(doc: Document, now: datetime) -> Change[datetime]:
    """Mark the participant erased and drop what is left of their personal data; once."""
    if doc.get("erased_at") is not None:
        return Change(result=doc["erased_at"])
    update = {
        "$set": {
            "erased_at": now,
            "pii": {},
            "lookup": [],
            "document_type": None,
            "changes": [{"action": "erased", "fields": [], "at": now}],
        }
    }
    return Change(
        update, [TrainingParticipantErased(participant_id=doc["_id"], erased_at=now)], now
    )
