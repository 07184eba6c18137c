"""Figure routes: all figures (exact or with small cells suppressed), the annual report and
a project's donor report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from ruta_shared.api import FieldError
from ruta_shared.reference import PROJECT_CODE_PATTERN, CrimeType, Office

from ruta_analytics.deps import DonorReader, ExactReader, RuntimeDep, SuppressedReader, Year
from ruta_analytics.figures import published, reports, service
from ruta_analytics.figures.models import Document, Filters

REGION_QUERY = Query(pattern=r"^(0[1-9]|1[0-9]|2[0-5])$", description="Ubigeo")
PROJECT_QUERY = Query(pattern=PROJECT_CODE_PATTERN, description="Código del proyecto")
ChartName = Literal[
    "victims_by_sex_and_age",
    "cases_and_victims_per_year",
    "referrals_by_institution",
    "training_by_audience",
    "route_stages",
]
ProjectCode = Annotated[str, Path(pattern=PROJECT_CODE_PATTERN, description="Código del proyecto")]

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
    project: Annotated[str | None, PROJECT_QUERY] = None,
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
        project=project,
    )


FiltersDep = Annotated[Filters, Depends(filters)]
# What the suppressed view admits besides `year` (see figures.publication and the README).
PROTECTED_DETAIL = "La vista con datos reservados solo admite el filtro por año («year»)."


def only_year(chosen: Filters) -> int | None:
    """The year of a suppressed-view request; any other filter is refused (422)."""
    for name in ("month", "year_from", "year_to", "office", "region", "crime_type", "project"):
        if getattr(chosen, name) is not None:
            raise FieldError(name, PROTECTED_DETAIL)
    return chosen.year


@router.get("/figures")
async def read_figures(
    runtime: RuntimeDep, chosen: FiltersDep, caller: SuppressedReader
) -> Document:
    """All figures of a year (or all time) with small cells suppressed, summed over the
    caller's offices (auditors, donors, trainers); no other filter."""
    return await published.published_figures(
        runtime=runtime, year=only_year(chosen), offices=published.scope_of(caller)
    )


@router.get("/figures/exact")
async def read_exact_figures(runtime: RuntimeDep, chosen: FiltersDep, _: ExactReader) -> Document:
    """All figures, exact (coordinators)."""
    return await service.read_figures(runtime=runtime, filters=chosen)


def attachment(body: bytes, media: str, filename: str) -> Response:
    """A download: the body with its media type and file name."""
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/{year}/tables.{fmt}")
async def report_tables(
    runtime: RuntimeDep,
    year: Year,
    fmt: Literal["csv", "xlsx"],
    caller: SuppressedReader,
    office: Annotated[Office | None, Query(description="No admitido: oficinas del usuario")] = None,
) -> Response:
    """The annual report's tables for a year (suppressed, the caller's offices), CSV or XLSX."""
    if office is not None:
        raise FieldError("office", PROTECTED_DETAIL)
    body, media = await published.report_tables(
        runtime=runtime, year=year, fmt=fmt, offices=published.scope_of(caller)
    )
    return attachment(body, media, f"ruta-reporte-{year}.{fmt}")


@router.get("/reports/{year}/charts/{name}.{fmt}")
async def report_chart(
    runtime: RuntimeDep,
    year: Year,
    name: ChartName,
    fmt: Literal["png", "svg"],
    caller: SuppressedReader,
) -> Response:
    """One of the report's charts for a year (suppressed, the caller's offices), PNG or SVG."""
    chart = await published.report_chart(
        runtime=runtime, year=year, name=name, fmt=fmt, offices=published.scope_of(caller)
    )
    return Response(chart, media_type=reports.FORMATS[fmt])


@router.get("/reports/projects/{project}/{year}/tables.{fmt}")
async def donor_report_tables(
    runtime: RuntimeDep,
    project: ProjectCode,
    year: Year,
    fmt: Literal["csv", "xlsx"],
    caller: DonorReader,
) -> Response:
    """A project's donor report for a year: the annual report's tables of the project's
    facts and its route-of-care stages (suppressed for that project), CSV or XLSX."""
    body, media = await published.report_tables(
        runtime=runtime, year=year, fmt=fmt, offices=published.scope_of(caller), project=project
    )
    return attachment(body, media, f"ruta-donante-{project}-{year}.{fmt}")


@router.get("/reports/projects/{project}/{year}/charts/{name}.{fmt}")
async def donor_report_chart(
    *,
    runtime: RuntimeDep,
    project: ProjectCode,
    year: Year,
    name: ChartName,
    fmt: Literal["png", "svg"],
    caller: DonorReader,
) -> Response:
    """One of a project's donor report charts for a year (suppressed), PNG or SVG."""
    chart = await published.report_chart(
        runtime=runtime,
        year=year,
        name=name,
        fmt=fmt,
        offices=published.scope_of(caller),
        project=project,
    )
    return Response(chart, media_type=reports.FORMATS[fmt])
