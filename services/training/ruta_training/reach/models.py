"""The distinct reach figures the API answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReachRead(BaseModel):
    """How many distinct people were reached (named participants count once each)."""

    sessions: int
    attendances: int = Field(description="Asistencias (persona × sesión)")
    distinct_participants: int
    headcount: int = Field(description="Personas contadas sin nombre")
    total_reach: int = Field(description="Participantes distintos + conteos sin nombre")
    by_sex: dict[str, int]
    by_audience: dict[str, int]
    by_region: dict[str, int]
