"""The suppressed view's reads: every period of the caller's scope, suppressed together.

`figures.publication` holds the method; this module computes each period's exact figures
(whole key sets) for an office scope (for a donor report, of one project's facts), solves
the suppression once per projection state (generation, batches applied, Lima day, scope,
project, k) and answers every request from it, so N requests (or N open pages) between two
batches cost one computation.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from ruta_shared.lima import today_lima
from ruta_shared.security.permissions import OFFICE_SCOPE
from ruta_shared.security.principal import Principal

from ruta_analytics.audit.service import annual_anchor
from ruta_analytics.figures import reports
from ruta_analytics.figures.cells import Shared
from ruta_analytics.figures.models import Document, Filters
from ruta_analytics.figures.publication import ALL, build, per_year_rows, release
from ruta_analytics.figures.service import exact_figures, known_years
from ruta_analytics.figures.suppression import solve
from ruta_analytics.projection.models import (
    CARE,
    CASES,
    MILESTONES,
    REFERRALS,
    RETURNS,
    SESSIONS,
    VICTIMS,
)
from ruta_analytics.projection.store import Generation
from ruta_analytics.runtime import Runtime

PERIOD_FACTS: Final = (CASES, VICTIMS, CARE, REFERRALS, RETURNS, MILESTONES, SESSIONS)
XLSX_MEDIA: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CACHED_STATES: Final = 8  # scopes kept per process (one per distinct set of offices)


def scope_of(principal: Principal) -> tuple[str, ...] | None:
    """The offices whose figures the caller sees summed (None: the whole country)."""
    if OFFICE_SCOPE.get(principal.role) == "own":
        return tuple(sorted(principal.offices))
    return None


async def published_figures(
    *,
    runtime: Runtime,
    year: int | None,
    offices: tuple[str, ...] | None,
    project: str | None = None,
) -> Document:
    """The suppressed figures of one year (None: all time) for an office scope (`project`:
    of that project's facts only, solved for that project's periods)."""
    return await publish(
        await runtime.generation(),
        cache=runtime.published,
        k=runtime.settings.suppression_k,
        year=year,
        offices=offices,
        project=project,
    )


async def publish(
    generation: Generation,
    *,
    cache: dict[Any, Any],
    k: int,
    year: int | None,
    offices: tuple[str, ...] | None,
    project: str | None = None,
) -> Document:
    """`published_figures` on a given generation and cache (also used by the benchmark)."""
    state = (generation.name, await generation.progress(), today_lima(), offices, project, k)
    solved = cache.get(state)
    if solved is None:
        solved = await _solve(generation, offices, k, project)
        if len(cache) >= CACHED_STATES:
            cache.clear()
        cache[state] = solved
    by_period, hidden, years = solved
    period: Any = ALL if year is None else year
    figures = by_period.get(period)
    if figures is None:  # a year without any fact: all zeros
        chosen = Filters(year=year, offices=offices, project=project)
        figures = await exact_figures(generation, chosen, whole=True)
    out = release(figures, period, hidden, k)
    shown = years if year is None else [y for y in (year - 1, year) if y in years] or [year]
    out["per_year"] = per_year_rows(shown, by_period, hidden)
    out["filters"] = {} if year is None else {"year": year}
    if project is not None:
        out["filters"]["project"] = project
    return out


async def _solve(
    generation: Generation, offices: tuple[str, ...] | None, k: int, project: str | None = None
) -> tuple[dict[Any, Document], set[Any], list[int]]:
    scope = Filters(offices=offices, project=project)
    years = await known_years(generation, scope)
    periods: list[Any] = [ALL, *years]
    # Every period's figures: a few documents each, read by `_id`, the all-time ones once.
    shared: Shared = {}
    found = [
        await exact_figures(
            generation,
            scope if p is ALL else Filters(year=p, offices=offices, project=project),
            whole=True,
            shared=shared,
        )
        for p in periods
    ]
    by_period: dict[Any, Document] = dict(zip(periods, found, strict=True))
    problem = build(by_period)
    return by_period, solve(problem.values, problem.lines, k), years


async def report_tables(
    *,
    runtime: Runtime,
    year: int,
    fmt: Literal["csv", "xlsx"],
    offices: tuple[str, ...] | None,
    project: str | None = None,
) -> tuple[bytes, str]:
    """The annual report's (or a project's donor report's) tables for a year (suppressed)
    and their media type."""
    k = runtime.settings.suppression_k
    figures = await published_figures(runtime=runtime, year=year, offices=offices, project=project)
    # The year's last checkpoint root: a published report anchors the trail outside Ruta.
    anchor = await annual_anchor(runtime=runtime, year=year)
    if fmt == "csv":
        return reports.to_csv(figures, year, k, anchor, project), "text/csv; charset=utf-8"
    return reports.to_xlsx(figures, year, k, anchor, project), XLSX_MEDIA


async def report_chart(
    *,
    runtime: Runtime,
    year: int,
    name: str,
    fmt: Literal["png", "svg"],
    offices: tuple[str, ...] | None,
    project: str | None = None,
) -> bytes:
    """One of the report's (or a project's donor report's) charts for a year (suppressed)."""
    figures = await published_figures(runtime=runtime, year=year, offices=offices, project=project)
    return reports.chart(figures, name, year, fmt, project)
