"""The suppressed view against an attacker, on the real FerretDB: nothing below k recovered."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.publication import ALL, Key, Problem, build, release
from ruta_analytics.figures.published import _solve
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.store import Generation, project
from ruta_analytics.testing.route_stream import with_routes
from ruta_shared.security.principal import Role
from ruta_shared.testing.synthetic import chunked, random_stream

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
K = 5


def determined(problem: Problem, hidden: set[Key]) -> set[Key]:
    """Hidden keys whose value every released linear relation together pins down: the
    relations restricted to the hidden keys (shown values moved to the right-hand side) and
    a hidden key is determined when it does not move in any direction of their null space."""
    unknown = sorted(hidden, key=repr)
    column = {key: i for i, key in enumerate(unknown)}
    rows = []
    for line in problem.lines:
        row = np.zeros(len(unknown))
        for key in line[:-1]:
            if key in column:
                row[column[key]] += 1
        if line[-1] in column:
            row[column[line[-1]]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:]  # a basis of the directions no relation sees
    return {key for key, i in column.items() if not null.size or np.abs(null[:, i]).max() < 1e-9}


def line_bound_leaks(problem: Problem, hidden: set[Key]) -> list[Key]:
    """Hidden parts of a line with a shown total, each known to be at least 1, whose sum
    equals their number (so each is 1)."""
    leaks = []
    for line in problem.lines:
        if line[-1] in hidden:
            continue
        inside = [key for key in line[:-1] if key in hidden]
        values = [problem.values[key] for key in inside]
        if inside and all(v >= 1 for v in values) and sum(values) == len(values):
            leaks += inside
    return leaks


async def test_no_hidden_count_below_k_is_recovered_from_every_request_combined(
    generation: Generation,
) -> None:
    rng = random.Random(7)
    events = with_routes(rng, random_stream(rng, cases=90, years=(2016, 2017, 2018), sessions=8))
    for batch in chunked(events, 200):
        await project(generation, batch)
    for offices in (None, ("lima",), ("cusco", "lima")):
        by_period, hidden, years = await _solve(generation, offices, K)
        assert years
        problem = build(by_period)
        # The relations are true of the exact figures (so an attacker may use them all).
        for line in problem.lines:
            assert sum(problem.values[k] for k in line[:-1]) == problem.values[line[-1]]
        small = {key for key, value in problem.values.items() if 0 < value < K}
        assert small, "the population must have small cells to protect"
        route_keys = {"se", "sl", "ssv", "ssp", "ssa", "sov", "tov"}
        assert {key[0] for key in small} & route_keys, "route stages must have small cells too"
        assert small <= hidden
        pinned = determined(problem, hidden)
        assert not {key for key in pinned if 0 < problem.values[key] < K}, offices
        assert not [key for key in line_bound_leaks(problem, hidden) if key in small]
        # What every request releases is the exact value or null, null exactly when hidden,
        # and rates, medians and growth only with what they are computed from.
        for period in (ALL, *years):
            out = release(by_period[period], period, hidden, K)
            shown = build({period: by_period[period]}).values
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
            if offices is None and period == ALL:  # enough stays nationally to show some
                assert any(stage["median_days"] is not None for stage in route["stages"])
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
