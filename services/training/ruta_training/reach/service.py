"""Distinct reach: how many people the training reached, each named participant once."""

from __future__ import annotations

from datetime import date
from typing import Any

from ruta_shared.security.principal import Principal

from ruta_training.reach.models import ReachRead
from ruta_training.reach.rules import Attendee, SessionFacts, compute_reach
from ruta_training.runtime import Runtime
from ruta_training.sessions.rules import visible_offices


async def reach(
    *,
    runtime: Runtime,
    principal: Principal,
    starts_from: date | None,
    starts_to: date | None,
    office: str | None,
    region: str | None,
) -> ReachRead:
    """Reach over the sessions (not cancelled) the caller may see, by sex, audience, region."""
    query: dict[str, Any] = {"status": {"$in": ["scheduled", "held"]}}
    offices = visible_offices(principal)
    if offices is not None:
        query["office"] = {"$in": offices}
    if office is not None:
        if offices is not None and office not in offices:
            return compute_reach([])
        query["office"] = office
    if region is not None:
        query["region"] = region
    bounds: dict[str, str] = {}
    if starts_from is not None:
        bounds["$gte"] = starts_from.isoformat()
    if starts_to is not None:
        bounds["$lte"] = starts_to.isoformat()
    if bounds:
        query["starts_on"] = bounds
    projection = {"starts_on": 1, "region": 1, "attendance": 1, "headcounts": 1}
    facts = [
        SessionFacts(
            session_id=doc["_id"],
            starts_on=doc["starts_on"],
            region=doc["region"],
            attendees=[
                Attendee(participant_id=pid, sex=entry["sex"], audience=entry["audience"])
                for pid, entry in sorted(doc.get("attendance", {}).items())
            ],
            headcounts=doc.get("headcounts", {}),
        )
        async for doc in runtime.sessions.collection.find(query, projection)
    ]
    return compute_reach(facts)
