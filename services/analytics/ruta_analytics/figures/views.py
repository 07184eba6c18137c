"""Analytics routes: figures (exact and suppressed), reports, the audit trail and its check."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from prometheus_client import Counter
from ruta_shared.api import FieldError
from ruta_shared.reference import CrimeType, Office
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal
from ruta_shared.service import ServiceContext, get_context

from ruta_analytics import reports
from ruta_analytics.audit import verify_trail
from ruta_analytics.facts import AUDIT, AUDIT_HEADS
from ruta_analytics.figures import Filters, exact_figures, suppressed
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.store import Generation, active_generation
from ruta_analytics.timeline import ACCESS_EVENTS, entry_view, ordered, stages

Document = dict[str, Any]
Context = Annotated[ServiceContext, Depends(get_context)]
TRAIL_ID = Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
REGION_QUERY = Query(pattern=r"^(0[1-9]|1[0-9]|2[0-5])$", description="Ubigeo")


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


def analytics_settings(context: ServiceContext) -> AnalyticsSettings:
    """The service's settings, typed."""
    settings = context.settings
    if not isinstance(settings, AnalyticsSettings):  # pragma: no cover (wiring bug)
        msg = "analytics routes need AnalyticsSettings"
        raise TypeError(msg)
    return settings


async def generation_of(context: ServiceContext) -> Generation:
    """The generation readers use now."""
    return await active_generation(context.db)


def verification_failures(request: Request) -> Counter:
    """The audit-verification failure counter (registered by `main.create_app`)."""
    counter: Counter = request.app.state.audit_failures
    return counter


def figures_router() -> APIRouter:
    """Figures and reports."""
    router = APIRouter(tags=["cifras"])

    @router.get("/figures")
    async def read_figures(
        context: Context,
        chosen: FiltersDep,
        _: Annotated[Principal, require("report:read_suppressed")],
    ) -> Document:
        """All figures with small cells suppressed (auditors, donors, trainers)."""
        generation = await generation_of(context)
        exact = await exact_figures(generation, chosen)
        return suppressed(exact, analytics_settings(context).suppression_k)

    @router.get("/figures/exact")
    async def read_exact_figures(
        context: Context,
        chosen: FiltersDep,
        _: Annotated[Principal, require("report:read_exact")],
    ) -> Document:
        """All figures, exact (coordinators)."""
        return await exact_figures(await generation_of(context), chosen)

    @router.get("/reports/{year}/tables.{fmt}")
    async def report_tables(
        context: Context,
        year: Annotated[int, Path(ge=1990, le=2999)],
        fmt: Literal["csv", "xlsx"],
        _: Annotated[Principal, require("report:read_suppressed")],
        office: Annotated[Office | None, Query()] = None,
    ) -> Response:
        """The annual report's tables for a year (suppressed), as CSV or XLSX."""
        k = analytics_settings(context).suppression_k
        figures = suppressed(
            await exact_figures(await generation_of(context), Filters(year=year, office=office)),
            k,
        )
        if fmt == "csv":
            body, media = reports.to_csv(figures, year, k), "text/csv; charset=utf-8"
        else:
            body = reports.to_xlsx(figures, year, k)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        filename = f"ruta-reporte-{year}.{fmt}"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @router.get("/reports/{year}/charts/{name}.{fmt}")
    async def report_chart(
        context: Context,
        year: Annotated[int, Path(ge=1990, le=2999)],
        name: Literal[
            "victims_by_sex_and_age",
            "cases_and_victims_per_year",
            "referrals_by_institution",
            "training_by_audience",
        ],
        fmt: Literal["png", "svg"],
        _: Annotated[Principal, require("report:read_suppressed")],
    ) -> Response:
        """One of the report's charts for a year (suppressed), as PNG or SVG."""
        k = analytics_settings(context).suppression_k
        figures = suppressed(
            await exact_figures(await generation_of(context), Filters(year=year)), k
        )
        return Response(reports.chart(figures, name, year, fmt), media_type=reports.FORMATS[fmt])

    return router


def audit_router() -> APIRouter:
    """The audit trail: timelines, verification and the access log of a case or session."""
    router = APIRouter(prefix="/audit", tags=["auditoría"])

    async def trail_documents(
        context: ServiceContext, trail: str
    ) -> tuple[list[Document], list[Document]]:
        generation = await generation_of(context)
        entries = [doc async for doc in generation.collection(AUDIT).find({"trail": trail})]
        heads = [doc async for doc in generation.collection(AUDIT_HEADS).find({"trail": trail})]
        if not entries and not heads:
            raise HTTPException(status_code=404, detail="No hay registros para este caso.")
        return entries, heads

    @router.get("/trails/{trail_id}")
    async def read_trail(
        context: Context,
        trail_id: Annotated[str, TRAIL_ID],
        _: Annotated[Principal, require("audit:read")],
    ) -> Document:
        """A case's (or session's) route of care: stages with time spent, and every entry."""
        entries, _heads = await trail_documents(context, trail_id)
        return {
            "trail": trail_id,
            "stages": stages(entries),
            "entries": [entry_view(entry) for entry in ordered(entries)],
        }

    @router.get("/trails/{trail_id}/verify")
    async def verify(
        request: Request,
        context: Context,
        trail_id: Annotated[str, TRAIL_ID],
        _: Annotated[Principal, require("audit:read")],
    ) -> Document:
        """Recompute every chain of the trail; report the first broken link, if any."""
        entries, heads = await trail_documents(context, trail_id)
        broken = verify_trail(entries, heads)
        if broken is not None:
            verification_failures(request).inc()
        return {
            "trail": trail_id,
            "valid": broken is None,
            "entries": len(entries),
            "chains": len(heads),
            "first_broken_link": broken.as_dict() if broken else None,
        }

    @router.get("/trails/{trail_id}/access-log")
    async def access_log(
        context: Context,
        trail_id: Annotated[str, TRAIL_ID],
        _: Annotated[Principal, require("access_log:read")],
    ) -> Document:
        """Reads of personal data and break-the-glass grants on a case, in time order."""
        entries, _heads = await trail_documents(context, trail_id)
        access = [entry_view(e) for e in ordered(entries) if e["type"] in ACCESS_EVENTS]
        return {"trail": trail_id, "entries": access}

    return router
