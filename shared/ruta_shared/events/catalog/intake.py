"""Events published by the intake service (cases, victims, consent, care)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from ruta_shared.events.envelope import EventData
from ruta_shared.events.registry_default import EVENTS

Office = Literal["lima", "iquitos", "cusco", "madre_de_dios"]
CrimeType = Literal[
    "trafficking",
    "csec",
    "forced_labour",
    "labour_exploitation",
    "child_labour",
    "migrant_smuggling",
    "missing_person",
]
UBIGEO_DEPARTMENT = r"^(0[1-9]|1[0-9]|2[0-5])$"


@EVENTS.register
class CaseOpened(EventData):
    """A case was opened at an office."""

    event_type: ClassVar[str] = "case.opened"
    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"

    case_id: str = Field(min_length=1, max_length=64)
    case_code: str = Field(min_length=1, max_length=32)
    office: Office
    opened_at: datetime
    crime_types: list[CrimeType] = Field(min_length=1)
    region_of_exploitation: str | None = Field(default=None, pattern=UBIGEO_DEPARTMENT)
    arrival_channel: str = Field(min_length=1, max_length=40)
