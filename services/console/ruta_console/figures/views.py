"""The figure pages: live figures with filters and charts, and the annual report's downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role

from ruta_console.calls import call
from ruta_console.deps import FiguresReader, RuntimeDep
from ruta_console.errors import RefusedError
from ruta_console.figures.rules import CHARTS, charts, figure_filters
from ruta_console.pages import render
from ruta_console.upstream import Service

router = APIRouter()

Year = Annotated[int, Path(ge=1990, le=2999)]
Fmt = Annotated[str, Path(pattern=r"^(csv|xlsx)$")]
ChartName = Annotated[str, Path(pattern="^(" + "|".join(CHARTS) + ")$")]
ChartFmt = Annotated[str, Path(pattern=r"^(png|svg)$")]
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "svg": "image/svg+xml",
}


@router.get("/cifras")
async def figures_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: FiguresReader,
    anio: Annotated[str | None, Query(pattern=r"^(|\d{4})$")] = None,
    mes: Annotated[str | None, Query(pattern=r"^(|[1-9]|1[0-2])$")] = None,
    oficina: Annotated[str | None, Query(pattern=r"^(|lima|iquitos|cusco|madre_de_dios)$")] = None,
    region: Annotated[str | None, Query(pattern=r"^(|\d{2})$")] = None,
    delito: Annotated[str | None, Query(pattern=r"^(|[a-z_]{3,40})$")] = None,
) -> Response:
    """The figures (exact for coordination, with small cells hidden for everyone else)."""
    chosen = {"anio": anio, "mes": mes, "oficina": oficina, "region": region, "delito": delito}
    assert session.account is not None
    exact = session.account.role is Role.COORDINATOR
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.ANALYTICS,
        method="GET",
        path="/figures/exact" if exact else "/figures",
        params=figure_filters(chosen),
    )
    if answer.status == 422:
        return render(
            request,
            "figures/figures.html",
            title="Cifras",
            status=422,
            figures=None,
            charts=[],
            filters={k: v or "" for k, v in chosen.items()},
            errors=answer.errors | {"_": answer.detail},
            exact=exact,
        )
    if not answer.ok:
        raise RefusedError(answer)
    return render(
        request,
        "figures/figures.html",
        title="Cifras",
        figures=answer.body,
        charts=charts(answer.body),
        filters={k: v or "" for k, v in chosen.items()},
        exact=exact,
    )


@router.get("/informes")
async def reports_page(*, request: Request, session: FiguresReader) -> Response:
    """The annual report: its tables (CSV, XLSX) and charts (PNG, SVG) to download."""
    del session  # the role check is the dependency
    this_year = today_lima().year
    return render(
        request,
        "figures/reports.html",
        title="Informe anual",
        years=list(range(this_year, this_year - 6, -1)),
        charts=CHARTS,
    )


async def _download(
    *,
    runtime: RuntimeDep,
    session: FiguresReader,
    path: str,
    filename: str,
    fmt: str,
) -> Response:
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.ANALYTICS,
        method="GET",
        path=path,
        timeout=runtime.settings.upstream_long_timeout_seconds,
    )
    if not answer.ok:
        raise RefusedError(answer)
    return Response(
        answer.content,
        media_type=DOWNLOADS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/informes/{year}/tablas.{fmt}")
async def report_tables(
    *, request: Request, runtime: RuntimeDep, session: FiguresReader, year: Year, fmt: Fmt
) -> Response:
    """Download the report's tables for a year."""
    return await _download(
        runtime=runtime,
        session=session,
        path=f"/reports/{year}/tables.{fmt}",
        filename=f"ruta-informe-{year}.{fmt}",
        fmt=fmt,
    )


@router.get("/informes/{year}/graficos/{name}.{fmt}")
async def report_chart(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: FiguresReader,
    year: Year,
    name: ChartName,
    fmt: ChartFmt,
) -> Response:
    """Download one of the report's charts for a year."""
    return await _download(
        runtime=runtime,
        session=session,
        path=f"/reports/{year}/charts/{name}.{fmt}",
        filename=f"ruta-{name}-{year}.{fmt}",
        fmt=fmt,
    )
