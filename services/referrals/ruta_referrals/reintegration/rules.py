"""Pure rules of returns home and milestones: the stored entry and the event of each record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ruta_shared.events.catalog.referrals import ReintegrationMilestoneReached, VictimReturnedHome
from ruta_shared.reference import REINTEGRATION_MILESTONES

from ruta_referrals.reintegration.models import (
    MilestoneCreate,
    MilestoneRead,
    ReturnHomeCreate,
    ReturnHomeRead,
)

Document = dict[str, Any]


def return_home_entry(
    body: ReturnHomeCreate, *, return_id: str, victim_id: str, author_id: str, now: datetime
) -> Document:
    """A return home as stored in the case's `returns`."""
    return {
        "return_id": return_id,
        "victim_id": victim_id,
        "region_of_origin": body.region_of_origin,
        "returned_on": body.returned_on.isoformat(),
        "funded": body.funded,
        "project_code": body.project_code,
        "recorded_at": now,
        "recorded_by": author_id,
    }


def returned_home(body: ReturnHomeCreate, *, case: Document, victim_id: str) -> VictimReturnedHome:
    """The event of a return home (codes and dates only)."""
    return VictimReturnedHome(
        case_id=case["_id"],
        victim_id=victim_id,
        office=case["office"],
        region_of_origin=body.region_of_origin,
        returned_on=body.returned_on,
        funded=body.funded,
        project_code=body.project_code,
    )


def milestone_entry(
    body: MilestoneCreate, *, milestone_id: str, victim_id: str, author_id: str, now: datetime
) -> Document:
    """A milestone as stored in the case's `milestones`."""
    return {
        "milestone_id": milestone_id,
        "victim_id": victim_id,
        "milestone": body.milestone,
        "reached_on": body.reached_on.isoformat(),
        "region": body.region,
        "recorded_at": now,
        "recorded_by": author_id,
    }


def milestone_reached(
    body: MilestoneCreate, *, case: Document, victim_id: str
) -> ReintegrationMilestoneReached:
    """The event of a reintegration milestone (codes and dates only)."""
    return ReintegrationMilestoneReached(
        case_id=case["_id"],
        victim_id=victim_id,
        office=case["office"],
        milestone=body.milestone,
        region=body.region,
        reached_on=body.reached_on,
    )


def return_read(entry: Document) -> ReturnHomeRead:
    """The read model of a stored return home."""
    return ReturnHomeRead(
        return_id=entry["return_id"],
        victim_id=entry["victim_id"],
        region_of_origin=entry["region_of_origin"],
        returned_on=entry["returned_on"],
        funded=entry["funded"],
        project_code=entry.get("project_code"),
        recorded_at=entry["recorded_at"],
    )


def milestone_read(entry: Document) -> MilestoneRead:
    """The read model of a stored milestone."""
    return MilestoneRead(
        milestone_id=entry["milestone_id"],
        milestone=entry["milestone"],
        milestone_label=REINTEGRATION_MILESTONES[entry["milestone"]],
        victim_id=entry["victim_id"],
        reached_on=entry["reached_on"],
        region=entry.get("region"),
        recorded_at=entry["recorded_at"],
    )
