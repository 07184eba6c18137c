"""The suppressed view and the donor reports against an attacker, on the real FerretDB:
nothing below k recovered, from every figure of every scope, project and period combined."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from typing import Any, Final

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.publication import ALL, Key, Period, Problem, build, release
from ruta_analytics.figures.published import solution
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.figures.suppression import solve
from ruta_analytics.projection.store import Generation, project
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.testing.project_stream import with_projects
from ruta_analytics.testing.route_stream import with_routes
from ruta_shared.security.principal import Role
from ruta_shared.testing.synthetic import chunked, random_stream

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
K = 5
CODES: Final = ("DTZ-2016", "SERV-INTEG", "OIM-LORETO", "UE-2018")


async def _projected(generation: Generation, seed: int) -> None:
    rng = random.Random(seed)
    stream = random_stream(rng, cases=120, years=(2016, 2017, 2018), sessions=12)
    for batch in chunked(with_projects(rng, with_routes(rng, stream), CODES), 200):
        await project(generation, batch)


def determined(problem: Problem, hidden: set[Key]) -> set[Key]:
    """Hidden keys whose value every released linear relation together pins down: the
    relations restricted to the hidden keys (shown values moved to the right-hand side) and
    a hidden key is determined when it does not move in any direction of their null space
    (found per group of hidden keys that relations connect: the groups are independent)."""
    rows: list[dict[Key, float]] = []
    for line in problem.lines:
        row: dict[Key, float] = {}
        for key in line[:-1]:
            if key in hidden:
                row[key] = row.get(key, 0) + 1
        if line[-1] in hidden:
            row[line[-1]] = row.get(line[-1], 0) - 1
        if any(row.values()):
            rows.append(row)
    group = {key: key for key in hidden}

    def root(key: Key) -> Key:
        while group[key] != key:
            group[key] = group[group[key]]
            key = group[key]
        return key

    for row in rows:
        first, *others = row
        for other in others:
            group[root(other)] = root(first)
    by_group: dict[Key, list[dict[Key, float]]] = {}
    for row in rows:
        by_group.setdefault(root(next(iter(row))), []).append(row)
    out: set[Key] = set()
    for members in by_group.values():
        unknown = sorted({key for row in members for key in row}, key=repr)
        column = {key: i for i, key in enumerate(unknown)}
        matrix = np.zeros((len(members), len(unknown)))
        for i, row in enumerate(members):
            for key, value in row.items():
                matrix[i, column[key]] = value
        _, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > 1e-9).sum())
        null = vt[rank:]  # a basis of the directions no relation sees
        out |= {key for key, i in column.items() if not null.size or abs(null[:, i]).max() < 1e-9}
    return out


def line_bound_leaks(problem: Problem, hidden: set[Key], known: set[Key]) -> list[Key]:
    """Hidden parts of a line whose total is shown or determined (`known`), each known to be
    at least 1, whose sum, the determined parts taken off, equals their number (each is 1)."""
    leaks = []
    for line in problem.lines:
        if line[-1] in hidden and line[-1] not in known:
            continue
        inside = [key for key in line[:-1] if key in hidden and key not in known]
        values = [problem.values[key] for key in inside]
        if inside and all(v >= 1 for v in values) and sum(values) == len(values):
            leaks += inside
    return leaks


async def test_no_hidden_count_below_k_is_recovered_from_every_request_combined(
    generation: Generation,
) -> None:
    await _projected(generation, 7)
    recovered_alone = 0
    for offices in (None, ("lima",), ("cusco", "lima")):
        solved = await solution(generation, offices, K)
        by_period, hidden, years = solved.by_period, solved.hidden, solved.years(None)
        assert years
        codes = {whose for whose, _ in by_period} - {None}
        assert len(codes) >= 3, "facts of several projects in every scope"
        problem = build(by_period)
        # The relations are true of the exact figures (so an attacker may use them all).
        for line in problem.lines:
            assert sum(problem.values[k] for k in line[:-1]) == problem.values[line[-1]]
        # National = the projects + the facts of no project, never released nor negative.
        remainders = problem.unreleased
        assert remainders <= hidden
        assert all(problem.values[key] >= 0 for key in remainders)
        small = {key for key, value in problem.values.items() if 0 < value < K}
        assert small, "the population must have small cells to protect"
        route_keys = {"se", "sl", "ssv", "ssp", "ssa", "sov", "tov"}
        assert {key[0] for key in small} & route_keys, "route stages must have small cells too"
        assert {key for key in small if key[1][0] in codes}, "and projects"
        assert small & remainders, "and the facts of no project"
        assert small <= hidden
        known = determined(problem, hidden)
        assert not {key for key in known if 0 < problem.values[key] < K}, offices
        assert not [key for key in line_bound_leaks(problem, hidden, known) if key in small]
        # What every request releases (the view and the annual report: every fact; a donor
        # report: a project's) is the exact value or null, null exactly when hidden, and
        # rates, medians and growth only with what they are computed from.
        for period in by_period:
            out = release(by_period[period], period, hidden, K)
            _released_as_solved(out, period, by_period[period], hidden)
            stages = out["route_stages"]["stages"]
            if offices is None and period == (None, ALL):  # enough stays to show some
                assert any(stage["median_days"] is not None for stage in stages)
        # Each project (and every fact) solved on its own, as before, the same releases give
        # counts below k away by differences: the population tests what the one problem adds.
        alone = set(remainders)
        for whose in {whose for whose, _ in by_period}:
            part = build({p: fig for p, fig in by_period.items() if p[0] == whose})
            alone |= solve(part.values, part.lines, K)
        recovered_alone += len({key for key in determined(problem, alone) if key in small})
    assert recovered_alone, "the population must have differences that give counts away"


def _released_as_solved(out: Doc, period: Period, exact: Doc, hidden: set[Key]) -> None:
    shown = build({period: exact}).values
    released = flatten(out, period)
    for key, value in shown.items():
        assert (key in hidden) == (released.get(key, "absent") is None), key
        if key not in hidden:
            assert released[key] == value
    ref = out["referrals"]
    if ref["acceptance_rate_pct"] is not None:
        assert ref["accepted"] is not None
        assert ref["answered"] is not None
    if ref["median_days_to_acceptance"] is not None:
        assert ref["accepted"] is not None
    route = out["route_stages"]
    for stage in route["stages"]:
        if stage["median_days"] is not None or stage["p90_days"] is not None:
            assert stage["left"] is not None
            assert stage["left"] >= K
    if route["stages_per_victim"] is not None:
        assert route["victims"] is not None
        assert route["stays"] is not None


def flatten(out: Doc, period: Any) -> dict[Key, Any]:
    """A released document's numbers under the problem's keys (null when hidden)."""
    built = build({period: _nulls_as_marks(out)})
    return {key: None if value is MARK else value for key, value in built.values.items()}


class _Mark(int):
    """A hidden value while keys are rebuilt (an int so sums do not fail)."""


MARK = _Mark(0)


def _nulls_as_marks(value: Any) -> Any:
    if value is None:
        return MARK
    if isinstance(value, dict):
        return {key: _nulls_as_marks(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_nulls_as_marks(v) for v in value]
    return value


async def test_the_suppressed_view_refuses_other_filters_and_sums_the_callers_offices(
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
) -> None:
    _, client = api
    events = random_stream(random.Random(8), cases=40, years=(2017,), sessions=3)
    for batch in chunked(events, 200):
        await project(generation, batch)
    auditor = {"Authorization": f"Bearer {token_for(Role.AUDITOR)}"}
    trainer = {"Authorization": f"Bearer {token_for(Role.TRAINER)}"}  # office lima only
    for query in ("region=15", "crime_type=csec", "office=lima", "year=2017&month=3"):
        refused = await client.get(f"/figures?{query}", headers=auditor)
        assert refused.status_code == 422, query
        name = query.split("&")[-1].split("=")[0]
        assert name in refused.text
        assert "solo admite el filtro por año" in refused.text
    export = await client.get("/reports/2017/tables.csv?office=lima", headers=auditor)
    assert export.status_code == 422
    national = (await client.get("/figures?year=2017", headers=auditor)).json()
    lima = (await client.get("/figures?year=2017", headers=trainer)).json()
    k = national["k"]
    exact_national = await exact_figures(generation, Filters(year=2017), whole=True)
    exact_lima = await exact_figures(generation, Filters(year=2017, office="lima"), whole=True)
    for shown, exact in ((national, exact_national), (lima, exact_lima)):
        assert shown["victims"]["rows"] == exact["victims"]["rows"]
        for row_shown, row_exact in zip(
            shown["victims"]["cells"], exact["victims"]["cells"], strict=True
        ):
            for value, true in zip(row_shown, row_exact, strict=True):
                assert value is None or value == true
                if 0 < true < k:
                    assert value is None
        origin = shown["victims_by_region_of_origin"]
        assert origin["keys"] == exact["victims_by_region_of_origin"]["keys"]  # whole key set
    assert exact_lima["cases_opened"] < exact_national["cases_opened"]


def _csv_table(body: bytes, title: str) -> list[list[str]]:
    """One table of a report's CSV: the rows after its title line, up to the blank line."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    start = rows.index([title]) + 1
    return rows[start : rows.index([], start)]


async def test_the_annual_and_donor_reports_are_released_from_the_one_mask_of_the_scope(
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
    settings: AnalyticsSettings,
) -> None:
    app, client = api
    await _projected(generation, 9)
    solved = await solution(generation, None, settings.suppression_k)  # auditors: the country
    auditor = {"Authorization": f"Bearer {token_for(Role.AUDITOR)}"}
    hidden_in_donor_reports = 0
    for (whose, year), exact in solved.by_period.items():
        if year == ALL:
            continue
        url, prefix = f"/reports/{year}/tables.csv", ""
        if whose is not None:
            url, prefix = f"/reports/projects/{whose}/{year}/tables.csv", f"Proyecto {whose}. "
        got = await client.get(url, headers=auditor)
        assert got.status_code == 200, url

        def expected(key: Key, value: int) -> str:
            return "s" if key in solved.hidden else str(value)

        title = f"{prefix}Víctimas atendidas por sexo y grupo de edad, {year}"
        table = _csv_table(got.content, title)
        victims = exact["victims"]
        for i, row in enumerate(victims["rows"]):
            for j, column in enumerate(victims["columns"]):
                key = ("vt", (whose, year), row, column)
                assert table[1 + i][1 + j] == expected(key, victims["cells"][i][j]), key
                hidden_in_donor_reports += whose is not None and key in solved.hidden
        for row in _csv_table(got.content, f"{prefix}Casos y víctimas nuevos por año")[1:]:
            key = ("cases", (whose, int(row[0])))
            by_year = solved.by_period.get(key[1])
            assert row[1] == expected(key, by_year["cases_opened"] if by_year else 0), key
        if whose is not None:
            stages = _csv_table(got.content, f"{prefix}Etapas de la ruta de atención, {year}")
            for stage, row in zip(exact["route_stages"]["stages"], stages[1:], strict=False):
                key = ("se", (whose, year), stage["stage"])
                assert row[1] == expected(key, stage["entered"]), key
    assert hidden_in_donor_reports, "donor reports must have hidden cells"
    assert len(app.state.runtime.published) == 1  # one computation answered every report
