"""Route of the distinct reach figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from ruta_shared.reference import UBIGEO_PATTERN, Office

from ruta_training.deps import RuntimeDep, TrainingReader
from ruta_training.reach import service
from ruta_training.reach.models import ReachRead

router = APIRouter(tags=["alcance"])


@router.get("/reach", response_model=ReachRead)
async def read_reach(
    *,
    runtime: RuntimeDep,
    who: TrainingReader,
    starts_from: Annotated[date | None, Query(description="Desde (fecha de inicio)")] = None,
    starts_to: Annotated[date | None, Query(description="Hasta (fecha de inicio)")] = None,
    office: Annotated[Office | None, Query(description="Oficina")] = None,
    region: Annotated[str | None, Query(pattern=UBIGEO_PATTERN, description="Región")] = None,
) -> ReachRead:
    """People reached: each named participant once, plus head counts; by sex, audience, region."""
    return await service.reach(
        runtime=runtime,
        principal=who,
        starts_from=starts_from,
        starts_to=starts_to,
        office=office,
        region=region,
    )
