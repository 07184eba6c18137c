"""Valid intake event payloads for tests: a case opened, a victim registered, fields overridable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ruta_shared.events.catalog.intake import CaseOpened, VictimRegistered


def case_opened(case_id: str, **overrides: Any) -> CaseOpened:
    """case.opened for a Lima trafficking case (any field can be overridden)."""
    values: dict[str, Any] = {
        "case_id": case_id,
        "case_code": "LIM-2026-0001",
        "office": "lima",
        "opened_at": datetime(2026, 2, 1, tzinfo=UTC),
        "crime_types": ["trafficking"],
        "region_of_exploitation": "15",
        "arrival_channel": "own_outreach",
    }
    return CaseOpened(**{**values, **overrides})


def victim_registered(case_id: str, victim_id: str, **overrides: Any) -> VictimRegistered:
    """victim.registered for an adult man from Loreto in a Lima case (fields overridable)."""
    values: dict[str, Any] = {
        "case_id": case_id,
        "victim_id": victim_id,
        "office": "lima",
        "sex": "male",
        "age_group": "adult",
        "region_of_origin": "16",
        "registered_at": datetime(2026, 2, 1, tzinfo=UTC),
    }
    return VictimRegistered(**{**values, **overrides})
