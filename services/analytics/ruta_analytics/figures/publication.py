"""The suppressed view (pure): every figure a non-coordinator may ask for, suppressed together.

A non-coordinator may ask for one period only (`year`, or everything), within their fixed
office scope, of every fact (the view, the annual report) or of one project's (a donor
report). Every number those requests can release is a cell of one problem: each (whose,
period)'s figures, keyed `(family, (whose, period), ...)`, and every linear relation between
them as a line (parts, then their total): a table's rows and columns with their margins;
tables sharing a total (victims by sex × age, by region of origin and of exploitation, and
per-year victims); answered = accepted + declined; people reached = participants + head
count, and the training breakdowns summing to it; who went through each route stage summing
to the stays (distinct (victim, stage) pairs); and, for every additive figure, the years
summing to the all-time value and the projects' values plus the facts of no project summing
to the value of every fact. A fact has at most one project, so "national minus the projects"
is the facts of no project: that remainder is a cell too, never released, protected as any
other. `suppression.solve` hides counts below k and then whatever would give them away, from
one line or from all the relations together (exact linear algebra). The mask is computed
once for all of them, so two requests never differ in what they release about the same
cell. Rates, medians and growth are shown only when what they are computed from is; the
median and 90th percentile of days in a stage only when the stays behind them (left) are
shown and at least k.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ruta_analytics.figures.models import Document

Key = tuple[Any, ...]
ALL: Final = "all"  # the period of the all-time figures
NOW: Final = "now"  # the period of what is overdue today, the same whatever the year asked
T: Final = "total"
# Whose facts a figure counts: a project's code, or None for every fact (the national or
# office-scope figures); NO_PROJECT, the facts of no project, is never released (a stored
# code never holds a dot: `projection.cube.safe`). A period key is (whose, year, ALL or NOW).
NO_PROJECT: Final = "sin.proyecto"
Period = tuple[str | None, Any]
# Families that count facts, so add up over years and over projects (distinct counts of
# people do not): funded returns and assessments count facts as returns and head counts do.
ADDITIVE: Final = frozenset(
    {"cases", "victims", "vt", "vo", "ve", "care", "rt", "acc", "ans", "overdue", "ret", "retf"}
    | {"mil", "th", "tas", "se", "sl", "sov", "tov"}
)


@dataclass
class Problem:
    """Released numbers by key, the numbers never released, and the linear relations."""

    values: dict[Key, int] = field(default_factory=dict)
    lines: list[list[Key]] = field(default_factory=list)
    unreleased: set[Key] = field(default_factory=set)

    def line(self, parts: Iterable[Key], total: Key) -> None:
        """`parts` add up to `total`."""
        self.lines.append([*parts, total])


def _table(problem: Problem, name: str, period: Any, table: Document, total: Key) -> None:
    rows, columns = table["rows"], table["columns"]
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            problem.values[(name, period, row, column)] = table["cells"][i][j]
        problem.values[(name, period, row, T)] = table["row_totals"][i]
        problem.line([(name, period, row, c) for c in columns], (name, period, row, T))
    for j, column in enumerate(columns):
        problem.values[(name, period, T, column)] = table["column_totals"][j]
        problem.line([(name, period, r, column) for r in rows], (name, period, T, column))
    problem.values[total] = table["total"]
    problem.line([(name, period, r, T) for r in rows], total)
    problem.line([(name, period, T, c) for c in columns], total)


def _vector(problem: Problem, name: str, period: Any, vector: Document, total: Key) -> None:
    for key, value in zip(vector["keys"], vector["values"], strict=True):
        problem.values[(name, period, key)] = value
    problem.values[total] = vector["total"]
    problem.line([(name, period, key) for key in vector["keys"]], total)


def _scalar(problem: Problem, key: Key, value: int) -> None:
    problem.values[key] = value


def build(by_period: Mapping[Period, Document]) -> Problem:
    """The problem of every (whose, period)'s figures (`ALL` and each year, for every fact
    and for each project)."""
    problem = Problem()
    for p, fig in by_period.items():
        victims, now = ("victims", p), (p[0], NOW)
        _scalar(problem, ("cases", p), fig["cases_opened"])
        _table(problem, "vt", p, fig["victims"], victims)
        _vector(problem, "vo", p, fig["victims_by_region_of_origin"], victims)
        _vector(problem, "ve", p, fig["victims_by_region_of_exploitation"], victims)
        care = fig["care"]
        _vector(problem, "care", p, care["by_type"], ("care", p, T))
        _scalar(problem, ("cared", p), care["victims_cared_for"])
        ref = fig["referrals"]
        _table(problem, "rt", p, ref["by_institution_and_outcome"], ("rt", p, T, T))
        for kind, value in zip(*_kv(ref["victims_by_institution"]), strict=True):
            _scalar(problem, ("vbi", p, kind), value)
        _scalar(problem, ("vbi", p, T), ref["victims_by_institution"]["total"])
        _scalar(problem, ("vref", p), ref["victims_referred"])
        _scalar(problem, ("acc", p), ref["accepted"])
        _scalar(problem, ("ans", p), ref["answered"])
        problem.line([("acc", p), ("rt", p, T, "declined")], ("ans", p))
        _scalar(problem, ("overdue", now), ref["overdue_now"])  # the same for every period
        ret = fig["returns_home"]
        _vector(problem, "ret", p, ret["by_region_of_origin"], ("ret", p, T))
        _scalar(problem, ("retf", p), ret["funded"])
        _scalar(problem, ("retv", p), ret["victims"])
        rei = fig["reintegration"]
        _vector(problem, "mil", p, rei["by_milestone"], ("mil", p, T))
        _scalar(problem, ("milv", p), rei["victims"])
        tr = fig["training"]
        reached, participants = ("tr", p), ("tp", p)
        _scalar(problem, participants, tr["participants"])
        _scalar(problem, ("th", p), tr["headcount"])
        _scalar(problem, reached, tr["people_reached"])
        problem.line([participants, ("th", p)], reached)
        _vector(problem, "ta", p, tr["by_audience"], reached)
        _vector(problem, "tg", p, tr["by_region"], reached)
        _vector(problem, "ts", p, tr["by_sex"], reached)
        _vector(problem, "thr", p, tr["by_home_region"], participants)
        _scalar(problem, ("tas", p), tr["assessments"])
        _route(problem, p, fig["route_stages"])
    _sums(problem, list(by_period))
    return problem


def _sums(problem: Problem, periods: list[Period]) -> None:
    """For every additive figure: each one's years add up to its all-time value, and the
    projects' values plus the facts of no project (never released) to the value of every
    fact. Every key set is whole, so the all-time and national keys cover the others."""
    years: dict[str | None, list[Any]] = {}
    for whose, period in periods:
        years.setdefault(whose, [])
        if period != ALL:
            years[whose].append(period)
    codes = [whose for whose in years if whose is not None]
    for key in [key for key in problem.values if key[0] in ADDITIVE]:
        name, (whose, period), rest = key[0], key[1], key[2:]
        if period == ALL and years[whose]:
            parts = [(name, (whose, year), *rest) for year in years[whose]]
            problem.line([part for part in parts if part in problem.values], key)
        if whose is None:
            parts = [(name, (code, period), *rest) for code in codes]
            shown = [part for part in parts if part in problem.values]
            if shown:
                remainder = (name, (NO_PROJECT, period), *rest)
                problem.values[remainder] = problem.values[key] - sum(
                    problem.values[part] for part in shown
                )
                problem.unreleased.add(remainder)
                problem.line([*shown, remainder], key)


def _route(problem: Problem, p: Period, route: Document) -> None:
    codes = [stage["stage"] for stage in route["stages"]]
    for stage in route["stages"]:
        _scalar(problem, ("se", p, stage["stage"]), stage["entered"])
        _scalar(problem, ("sl", p, stage["stage"]), stage["left"])
        _scalar(problem, ("ssv", p, stage["stage"]), stage["victims"])
    _scalar(problem, ("ssp", p), route["stays"])
    problem.line([("ssv", p, code) for code in codes], ("ssp", p))
    _scalar(problem, ("ssa", p), route["victims"])
    _scalar(problem, ("sov", (p[0], NOW)), route["overdue_stages_now"])  # as referrals'
    _scalar(problem, ("tov", (p[0], NOW)), route["overdue_tasks_now"])


def _shown_route(route: Document, p: Period, show: Any, k: int) -> Document:
    """The route figures released: counts as the solution shows them; a stage's median and
    90th percentile only when its stays (left) are shown and at least k."""
    stages = []
    for stage in route["stages"]:
        code = stage["stage"]
        left = show(("sl", p, code))
        enough = left is not None and left >= k
        stages.append(
            {
                **stage,
                "entered": show(("se", p, code)),
                "left": left,
                "median_days": stage["median_days"] if enough else None,
                "p90_days": stage["p90_days"] if enough else None,
                "victims": show(("ssv", p, code)),
            }
        )
    victims, stays = show(("ssa", p)), show(("ssp", p))
    return {
        "stages": stages,
        "victims": victims,
        "stays": stays,
        "stages_per_victim": route["stages_per_victim"]
        if victims is not None and stays is not None
        else None,
        "overdue_stages_now": show(("sov", (p[0], NOW))),
        "overdue_tasks_now": show(("tov", (p[0], NOW))),
    }


def _kv(vector: Document) -> tuple[list[Any], list[Any]]:
    return list(vector["keys"]), list(vector["values"])


def release(fig: Document, period: Period, hidden: set[Key], k: int) -> Document:
    """The suppressed document of `period` (its figures `fig`), hidden values as null."""

    def show(key: Key) -> int | None:
        return None if key in hidden else int(fig_values[key])

    fig_values = build({period: fig}).values
    p = period
    ref, tr = fig["referrals"], fig["training"]
    accepted, answered = show(("acc", p)), show(("ans", p))
    out: Document = {"filters": fig["filters"], "k": k, "suppressed": True}
    out["cases_opened"] = show(("cases", p))
    out["victims"] = _shown_table(fig["victims"], "vt", p, ("victims", p), show)
    out["per_year"] = []  # filled by `per_year_rows`
    out["victims_by_region_of_origin"] = _shown_vector(
        fig["victims_by_region_of_origin"], "vo", p, ("victims", p), show
    )
    out["victims_by_region_of_exploitation"] = _shown_vector(
        fig["victims_by_region_of_exploitation"], "ve", p, ("victims", p), show
    )
    care = fig["care"]
    out["care"] = {
        "by_type": _shown_vector(care["by_type"], "care", p, ("care", p, T), show),
        "victims_cared_for": show(("cared", p)),
    }
    vbi = ref["victims_by_institution"]
    out["referrals"] = {
        "by_institution_and_outcome": _shown_table(
            ref["by_institution_and_outcome"], "rt", p, ("rt", p, T, T), show
        ),
        "victims_by_institution": {
            **vbi,
            "values": [show(("vbi", p, key)) for key in vbi["keys"]],
            "total": show(("vbi", p, T)),
        },
        "victims_referred": show(("vref", p)),
        "accepted": accepted,
        "answered": answered,
        "acceptance_rate_pct": ref["acceptance_rate_pct"]
        if accepted is not None and answered is not None
        else None,
        "median_days_to_acceptance": ref["median_days_to_acceptance"]
        if accepted is not None
        else None,
        "overdue_now": show(("overdue", (p[0], NOW))),
    }
    ret = fig["returns_home"]
    out["returns_home"] = {
        "by_region_of_origin": _shown_vector(
            ret["by_region_of_origin"], "ret", p, ("ret", p, T), show
        ),
        "funded": show(("retf", p)),
        "victims": show(("retv", p)),
    }
    rei = fig["reintegration"]
    out["reintegration"] = {
        "by_milestone": _shown_vector(rei["by_milestone"], "mil", p, ("mil", p, T), show),
        "victims": show(("milv", p)),
    }
    reached = ("tr", p)
    audience = _shown_vector(tr["by_audience"], "ta", p, reached, show)
    out["training"] = {
        "sessions_held": tr["sessions_held"],  # sessions are not people
        "people_reached": show(reached),
        "participants": show(("tp", p)),
        "headcount": show(("th", p)),
        "by_audience": audience,
        "by_region": _shown_vector(tr["by_region"], "tg", p, reached, show),
        "by_home_region": _shown_vector(tr["by_home_region"], "thr", p, ("tp", p), show),
        "by_sex": _shown_vector(tr["by_sex"], "ts", p, reached, show),
        "car_staff": dict(zip(audience["keys"], audience["values"], strict=True)).get(
            "car_staff", 0
        ),
        "assessments": show(("tas", p)),
        "average_test_gain": tr["average_test_gain"] if show(("tas", p)) is not None else None,
    }
    out["route_stages"] = _shown_route(fig["route_stages"], p, show, k)
    return out


def per_year_rows(
    years: Iterable[int],
    whose: str | None,
    by_period: Mapping[Period, Document],
    hidden: set[Key],
) -> list[Document]:
    """Per-year cases and victims (of a project's facts, or of all) as every period releases
    them; growth only between two years both shown."""

    def value(key: Key, fig: Document | None) -> int | None:
        if key in hidden:
            return None
        if fig is None:
            return 0
        return int(fig["cases_opened"] if key[0] == "cases" else fig["victims"]["total"])

    rows = []
    for year in years:
        now, previous = (whose, year), (whose, year - 1)
        fig, before = by_period.get(now), by_period.get(previous)
        cases, victims = value(("cases", now), fig), value(("victims", now), fig)
        cases_before = value(("cases", previous), before)
        victims_before = value(("victims", previous), before)
        rows.append(
            {
                "year": year,
                "cases": cases,
                "cases_growth_pct": _growth(cases, cases_before),
                "victims": victims,
                "victims_growth_pct": _growth(victims, victims_before),
            }
        )
    return rows


def _growth(current: int | None, previous: int | None) -> float | None:
    if current is None or not previous:
        return None
    return round((current - previous) * 100 / previous, 1)


def _shown_table(table: Document, name: str, p: Any, total: Key, show: Any) -> Document:
    rows, columns = table["rows"], table["columns"]
    return {
        **table,
        "cells": [[show((name, p, r, c)) for c in columns] for r in rows],
        "row_totals": [show((name, p, r, T)) for r in rows],
        "column_totals": [show((name, p, T, c)) for c in columns],
        "total": show(total),
    }


def _shown_vector(vector: Document, name: str, p: Any, total: Key, show: Any) -> Document:
    return {
        **vector,
        "values": [show((name, p, key)) for key in vector["keys"]],
        "total": show(total),
    }
