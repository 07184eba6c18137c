"""What registering victims takes before the case is written: checks, personal data, duplicates."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ruta_shared.events.catalog.intake import VictimPossibleDuplicateDetected
from ruta_shared.security.principal import Principal

from ruta_intake.cases.rules import field_prefix
from ruta_intake.duplicates.screening import Candidate, record_possible_duplicates, screen
from ruta_intake.runtime import Runtime
from ruta_intake.victims.models import VictimCreate
from ruta_intake.victims.personal_data import document_index, store_personal_data
from ruta_intake.victims.rules import victim_attributes

Document = dict[str, Any]


@dataclass(frozen=True)
class NewVictims:
    """Victims ready for the case: attributes to store, events to add, notices to answer."""

    victims: list[Document]
    detected: list[VictimPossibleDuplicateDetected]
    notices: list[str | None]


async def prepare_victims(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    office: str,
    bodies: Sequence[VictimCreate],
    prefixes: Sequence[str],
    intake_date: date,
    now: datetime,
) -> NewVictims:
    """Check new victims (rules, then duplicates), then write their data and possible duplicates.

    `prefixes` name each victim in the request (`body`, `body.victims.0`). Nothing is
    visible until the case lists the victims: the caller writes the case next.
    """
    victims = []
    for prefix, body in zip(prefixes, bodies, strict=True):
        with field_prefix(prefix):
            victims.append(victim_attributes(body, intake_date=intake_date, now=now))
    screened = await screen(
        runtime=runtime,
        principal=principal,
        candidates=[
            Candidate(
                f"{prefix}.personal_data.document_number",
                document_index(runtime=runtime, data=body.personal_data),
                body.allow_duplicate,
            )
            for prefix, body in zip(prefixes, bodies, strict=True)
        ],
    )
    await asyncio.gather(
        *(
            store_personal_data(
                runtime=runtime,
                subject_type="victim",
                subject_id=victim["victim_id"],
                case_id=case_id,
                data=body.personal_data,
                document_index=checked.index,
            )
            for victim, body, checked in zip(victims, bodies, screened, strict=True)
        )
    )
    detected: list[VictimPossibleDuplicateDetected] = []
    for victim, checked in zip(victims, screened, strict=True):
        found = await record_possible_duplicates(
            runtime=runtime,
            principal=principal,
            case_id=case_id,
            office=office,
            victim_id=victim["victim_id"],
            screened=checked,
            now=now,
        )
        victim["duplicate_ids"] = [event.duplicate_id for event in found]
        detected += found
    return NewVictims(victims, detected, [checked.notice for checked in screened])
