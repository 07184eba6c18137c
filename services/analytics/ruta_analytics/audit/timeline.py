"""A case's route of care as a timeline (pure logic): its audit entries in time order and the
time spent in each stage, intake → first care → referral → acceptance → return home → closure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

Document = dict[str, Any]

# stage: (label, event type, payload field holding the moment it happened)
STAGES: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("intake", "Ingreso", "case.opened", "opened_at"),
    ("first_care", "Primera atención", "care.provided", "provided_on"),
    ("referral", "Derivación", "referral.sent", "sent_at"),
    ("acceptance", "Aceptación de la derivación", "referral.accepted", "accepted_at"),
    ("return_home", "Retorno al lugar de origen", "victim.returned_home", "returned_on"),
    ("closure", "Cierre", "case.closed", "closed_at"),
)
ACCESS_EVENTS: Final = frozenset({"pii.accessed", "access.break_glass_granted"})


def _moment(value: str) -> datetime:
    if len(value) == 10:  # a date: the day's start, in UTC, is precise enough for durations
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ordered(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Entries in time order (ties broken by chain and position, so the order is stable)."""
    return sorted(entries, key=lambda e: (e["occurred_at"], e["chain"], e["position"]))


def stages(entries: Iterable[Mapping[str, Any]]) -> list[Document]:
    """When each stage was first reached and how long the case stayed in it (days)."""
    reached: dict[str, datetime] = {}
    for entry in ordered(entries):
        event = entry["event"]
        for stage, _label, event_type, field in STAGES:
            if event["type"] == event_type and stage not in reached:
                value = event["data"].get(field)
                reached[stage] = (
                    _moment(value) if isinstance(value, str) else _moment(event["occurred_at"])
                )
    if "closure" in reached:
        # The last closure counts (a reopened case closes again).
        closures = [
            _moment(e["event"]["data"]["closed_at"])
            for e in entries
            if e["event"]["type"] == "case.closed"
        ]
        reached["closure"] = max(closures)
    timeline = []
    present = sorted((s for s in STAGES if s[0] in reached), key=lambda s: reached[s[0]])
    for index, (stage, label, _type, _field) in enumerate(present):
        start = reached[stage]
        following = present[index + 1][0] if index + 1 < len(present) else None
        end = reached[following] if following else None
        timeline.append(
            {
                "stage": stage,
                "label": label,
                "reached_at": start.isoformat(),
                "days_in_stage": round((end - start).total_seconds() / 86400, 2)
                if end is not None
                else None,
            }
        )
    return timeline


def entry_view(entry: Mapping[str, Any]) -> Document:
    """One audit entry as the auditor reads it."""
    event = entry["event"]
    return {
        "event_id": entry["_id"],
        "type": event["type"],
        "occurred_at": event["occurred_at"],
        "source": event["source"],
        "actor": event["actor"],
        "chain": entry["chain"],
        "position": entry["position"],
        "hash": entry["hash"],
        "prev_hash": entry["prev_hash"],
        "access_event": event["type"] in ACCESS_EVENTS,
        "data": event["data"],
    }
