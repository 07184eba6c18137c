"""The suppressed view's reads: every figure of the caller's scope, suppressed together.

`figures.publication` holds the method; this module computes the exact figures (whole key
sets) of every period of an office scope, of all its facts and of each project's facts,
solves the suppression once per projection state (generation, batches applied, Lima day,
scope, k) and answers every request from that one mask: the suppressed view, the annual
report and every project's donor report. N requests (or N open pages) between two batches
cost one computation, and no two of them differ in what they release about a number. After
a batch, requests are answered from the scope's latest solution (figures and mask of that
earlier state) while the new state is solved in the background, so no reader waits for a
solve but the first one of a scope.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any, Final, Literal

from ruta_shared.lima import today_lima
from ruta_shared.security.permissions import OFFICE_SCOPE
from ruta_shared.security.principal import Principal

from ruta_analytics.audit.service import annual_anchor
from ruta_analytics.figures import reports
from ruta_analytics.figures.cells import Shared, projects_in
from ruta_analytics.figures.models import Document, Filters
from ruta_analytics.figures.publication import ALL, Period, build, per_year_rows, release
from ruta_analytics.figures.service import exact_figures, known_years
from ruta_analytics.figures.solved import (
    Solution,
    SolvedStates,
    State,
    load,
    release_lease,
    scope_id,
    store,
    stored_solution,
    stored_state,
    take_lease,
)
from ruta_analytics.figures.suppression import solve
from ruta_analytics.projection.store import Generation
from ruta_analytics.runtime import Runtime

XLSX_MEDIA: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
log = logging.getLogger(__name__)


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
    of that project's facts only), from the scope's one mask."""
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
    cache: SolvedStates,
    k: int,
    year: int | None,
    offices: tuple[str, ...] | None,
    project: str | None = None,
) -> Document:
    """`published_figures` on a given generation and cache (also used by the benchmark)."""
    solved, current = await _solved(generation, cache, offices, k)
    period: Period = (project, ALL if year is None else year)
    figures = solved.by_period.get(period)
    if figures is None and not current:
        # Not in the latest solution: a year or project that may have facts by now, and a
        # mask solved without them must not release them. Solve this state now.
        solved, current = await _solved(generation, cache, offices, k, wait=True)
        figures = solved.by_period.get(period)
    if figures is None:  # no fact of that year (or project) in the scope: zeros, but for
        # what is overdue now (the same every year: in the mask if the project has facts)
        chosen = Filters(year=year, offices=offices, project=project)
        figures = await exact_figures(generation, chosen, whole=True)
    out = release(figures, period, solved.hidden, k)
    years = solved.years(project)
    shown = years if year is None else [y for y in (year - 1, year) if y in years] or [year]
    out["per_year"] = per_year_rows(shown, project, solved.by_period, solved.hidden)
    out["filters"] = {} if year is None else {"year": year}
    if project is not None:
        out["filters"]["project"] = project
    return out


async def _solved(
    generation: Generation,
    cache: SolvedStates,
    offices: tuple[str, ...] | None,
    k: int,
    *,
    wait: bool = False,
) -> tuple[Solution, bool]:
    """The solution of the projection state now, and True; or, while that one is solved in
    the background, the latest solved for the scope (figures and mask of one earlier state,
    consistent with each other), and False. A process that has none of the scope takes the
    stored one (`figures.solved`); readers never wait for a solve but the first one of a
    scope in a generation (or `wait`)."""
    now: State = (await generation.progress(), today_lima().isoformat())
    state, scope = _keys(generation, offices, k, now)
    solved = cache.states.get(state)
    if solved is not None:
        return solved, True
    stored_as = scope_id(offices, k)
    latest = cache.latest.get(scope)
    if latest is None and not wait:
        stored = await stored_solution(generation, stored_as)
        if stored is not None:
            cache.keep(_keys(generation, offices, k, stored[0])[0], scope, stored[1])
            if stored[0] == now:
                return stored[1], True
            latest = stored[1]
    if latest is None or wait:
        solved = await solution(generation, offices, k)
        cache.keep(state, scope, solved)
        await store(generation, stored_as, now, solved)
        return solved, True
    running = cache.refreshing.get(scope)
    if running is None or running.done():
        task = _refresh(generation, cache, offices, k, now)
        cache.refreshing[scope] = asyncio.get_running_loop().create_task(task)
    return latest, False


def _keys(
    generation: Generation, offices: tuple[str, ...] | None, k: int, state: State
) -> tuple[Any, Any]:
    """The cache's keys of a scope's projection state and of the scope."""
    return (generation.name, *state, offices, k), (generation.name, offices, k)


async def _refresh(
    generation: Generation,
    cache: SolvedStates,
    offices: tuple[str, ...] | None,
    k: int,
    now: State,
) -> None:
    """Solve the state `now` of a scope in the background: take the stored solution if
    another process solved it already; otherwise solve it under the scope's lease and store
    it (without the lease, another process is solving it: the next read looks again)."""
    (state, scope), stored_as = _keys(generation, offices, k, now), scope_id(offices, k)
    try:
        head = await stored_state(generation, stored_as)
        if head is not None and head[0] == now:
            solved = await load(generation, head[1])
            if solved is not None:
                cache.keep(state, scope, solved)
                return
        if not await take_lease(generation, stored_as):
            return
        try:
            solved = await solution(generation, offices, k)
        except BaseException:
            await release_lease(generation, stored_as)
            raise
        cache.keep(state, scope, solved)
        await store(generation, stored_as, now, solved)
    except Exception:  # the next read tries again; nothing is released from it
        log.exception("suppressed view: background solve failed")


async def solution(generation: Generation, offices: tuple[str, ...] | None, k: int) -> Solution:
    """One problem for an office scope: all time and each year, of every fact and of each
    project with facts in the scope (national minus a project's figures is a difference an
    auditor can take, so they are solved together)."""
    # A few documents a period, read by `_id` and shared: every project's figures are other
    # cells of the documents the scope's figures read.
    shared: Shared = {}
    by_period: dict[Period, Document] = {}
    for whose in [None, *await projects_in(generation, Filters(offices=offices))]:
        chosen = Filters(offices=offices, project=whose)
        years = await known_years(generation, chosen)
        periods: list[tuple[Any, Filters]] = [(ALL, chosen)]
        periods += [(year, replace(chosen, year=year)) for year in years]
        for year, filters in periods:
            by_period[(whose, year)] = await exact_figures(
                generation, filters, whole=True, shared=shared
            )
    problem = build(by_period)
    # Solved in a thread: the event loop keeps answering reads meanwhile.
    hidden = await asyncio.to_thread(solve, problem.values, problem.lines, k, problem.unreleased)
    return Solution(by_period, hidden)


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
