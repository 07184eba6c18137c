"""The projection's builders for corrections of a victim's record (pure): new attributes, and
two records found to be one person."""

from __future__ import annotations

from ruta_shared.events import EventEnvelope
from ruta_shared.events.catalog.intake import (
    VictimAttributesCorrected,
    VictimDuplicateResolved,
    VictimRegistered,
)

from ruta_analytics.projection.models import VICTIMS, Document, FactBatch, Key


def attributes_corrected(
    batch: FactBatch, event: VictimAttributesCorrected, envelope: EventEnvelope
) -> None:
    """The victim's non-identifying attributes after a correction (its period and case stay)."""
    victim = batch.guarded(VICTIMS, event.victim_id, envelope)
    if victim is None:
        return
    victim.update(victim_attributes(event))
    batch.put(VICTIMS, victim)


def victim_attributes(event: VictimRegistered | VictimAttributesCorrected) -> Document:
    """A victim's non-identifying attributes, as registered or as corrected."""
    return {
        "sex": event.sex,
        "age_group": event.age_group,
        "nationality": event.nationality,
        "region_of_origin": event.region_of_origin,
        "indigenous_people": event.indigenous_people,
        "disability": event.disability,
    }


def duplicate_keys(event: VictimDuplicateResolved, _: EventEnvelope) -> list[Key]:
    return [(VICTIMS, event.victim_id), (VICTIMS, event.other_victim_id)]


def duplicate_resolved(batch: FactBatch, event: VictimDuplicateResolved, _: EventEnvelope) -> None:
    """One person in two records: the record not kept stops counting as a victim
    (`duplicate_of`); two people: both count. The two records belong to different subjects,
    so no sequence guard: the last resolution applied wins, and re-applying it is a no-op.
    A record not registered yet gets a stub holding only the mark, which its registration
    keeps (stubs never count: they carry a `duplicate_of`)."""
    pair = (event.victim_id, event.other_victim_id)
    kept = event.kept_victim_id if event.outcome == "same_person" else None
    if kept not in pair:
        kept = None  # nothing says which record to keep: both keep counting
    for victim_id in pair:
        mark = None
        if kept is not None and victim_id != kept:
            mark = kept
        current = batch.get(VICTIMS, victim_id)
        if current is None:
            if mark is not None:
                batch.put(VICTIMS, {"_id": victim_id, "duplicate_of": mark})
            continue
        if current.get("duplicate_of") != mark and (
            mark is not None or current.get("duplicate_of") in pair
        ):
            batch.put(VICTIMS, {**current, "duplicate_of": mark})
