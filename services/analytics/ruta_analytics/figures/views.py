"""Figure routes: all figures (exact or with small cells suppressed) and the annual report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from ruta_shared.api import FieldError
from ruta_shared.reference import CrimeType, Office

from ruta_analytics.deps import ExactReader, RuntimeDep, SuppressedReader, Year
from ruta_analytics.figures import reports, service
from ruta_analytics.figures.models import Document, Filters

REGION_QUERY = Query(pattern=r"^(0[1-9]|1[0-9]|2[0-5])$", description="Ubigeo")
ChartName = Literal[
    "victims_by_sex_and_age",
    "cases_and_victims_per_year",
    "referrals_by_institution",
    "training_by_audience",
]

router = APIRouter(tags=["cifras"])


def filters(
    *,
    year: Annotated[int | None, Query(ge=1990, le=2999, description="Año (hora de Lima)")] = None,
    month: Annotated[int | None, Query(ge=1, le=12, description="Mes, con el año")] = None,
    year_from: Annotated[int | None, Query(ge=1990, le=2999)] = None,
    year_to: Annotated[int | None, Query(ge=1990, le=2999)] = None,
    office: Annotated[Office | None, Query()] = None,
    region: Annotated[str | None, REGION_QUERY] = None,
    crime_type: Annotated[CrimeType | None, Query()] = None,
) -> Filters:
    """FastAPI dependency: the figure filters from the query string."""
    if month is not None and year is None:
        raise FieldError("month", "Indique también el año.")
    if year is not None and (year_from is not None or year_to is not None):
        raise FieldError("year", "Use el año o el rango de años, no ambos.")
    return Filters(
        year=year,
        month=month,
        year_from=year_from,
        year_to=year_to,
        office=office,
        region=region,
        crime_type=crime_type,
    )


FiltersDep = Annotated[Filters, Depends(filters)]


@router.get("/figures")
async def read_figures(runtime: RuntimeDep, chosen: FiltersDep, _: SuppressedReader) -> Document:
    """All figures with small cells suppressed (auditors, donors, trainers)."""
    return await service.read_figures(runtime=runtime, filters=chosen, exact=False)


@router.get("/figures/exact")
async def read_exact_figures(runtime: RuntimeDep, chosen: FiltersDep, _: ExactReader) -> Document:
    """All figures, exact (coordinators)."""
    return await service.read_figures(runtime=runtime, filters=chosen, exact=True)


@router.get("/reports/{year}/tables.{fmt}")
async def report_tables(
    runtime: RuntimeDep,
    year: Year,
    fmt: Literal["csv", "xlsx"],
    _: SuppressedReader,
    office: Annotated[Office | None, Query()] = None,
) -> Response:
    """The annual report's tables for a year (suppressed), as CSV or XLSX."""
    body, media = await service.report_tables(runtime=runtime, year=year, fmt=fmt, office=office)
    filename = f"ruta-reporte-{year}.{fmt}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/{year}/charts/{name}.{fmt}")
async def report_chart(
    runtime: RuntimeDep,
    year: Year,
    name: ChartName,
    fmt: Literal["png", "svg"],
    _: SuppressedReader,
) -> Response:
    """One of the report's charts for a year (suppressed), as PNG or SVG."""
    chart = await service.report_chart(runtime=runtime, year=year, name=name, fmt=fmt)
    return Response(chart, media_type=reports.FORMATS[fmt])
