"""The figures, read from the aggregate documents the projection keeps (`figures.cells`),
exact; and what the routes ask for (the suppressed view, the annual report's tables and charts).

Every read takes a fixed number of documents by `_id` for its period and offices, whatever the
amount of data: no fact is scanned.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from datetime import date
from functools import lru_cache
from typing import Any, Final

from ruta_shared.lima import today_lima
from ruta_shared.reference import (
    AGE_GROUPS,
    AUDIENCES,
    CARE_TYPES,
    INSTITUTION_KINDS,
    REGIONS,
    REINTEGRATION_MILESTONES,
    SEXES,
)

from ruta_analytics.figures.cells import (
    Counts,
    Read,
    Shared,
    cell_of,
    pairs,
    read_all,
    under,
    years_known,
)
from ruta_analytics.figures.models import (
    AGE_ORDER,
    OUTCOMES,
    SEX_ORDER,
    Document,
    Filters,
)
from ruta_analytics.figures.route import overdue_now, route_stages
from ruta_analytics.figures.rules import growth, median_of_histogram, table, vector
from ruta_analytics.projection.store import Generation
from ruta_analytics.runtime import Runtime

# The cells each filter set read, by (database, generation, batches applied, filters, Lima
# day): the latest ones of each filter set (a batch bumps the count; a journal replayed after
# a crash too, `projection.store.recover`), so a read is never served from a state left behind.
STATE_READS: Final = 512
_STATE_READS: OrderedDict[tuple[str, str, int, Filters, date], tuple[Read, Read, Read]] = (
    OrderedDict()
)


async def read_figures(*, runtime: Runtime, filters: Filters) -> Document:
    """The exact figures for `filters` (coordinators)."""
    return await exact_figures(await runtime.generation(), filters)


async def exact_figures(
    generation: Generation,
    filters: Filters,
    *,
    today: date | None = None,
    whole: bool = False,
    shared: Shared | None = None,
) -> Document:
    """Every figure of the dashboard and the reports, exact (`whole`: every vector and
    table lists its whole key set, as the suppressed view needs). Computed once per distinct
    stored content of the cells read (`_figures`); the cells one filter set read are kept per
    projection state (`_STATE_READS`): between two batches, a read of the same filters costs
    the progress document and a copy."""
    today = today or today_lima()
    if shared is not None:  # a group of reads of one state (the suppressed view's solve)
        reads = await read_all(generation, filters, today, shared=shared)
    else:
        reads = await _state_reads(generation, filters, today)
    # Pickled by `_figures` in this process, from the cells it read: never outside data.
    figures: Document = pickle.loads(_figures(filters, today, whole, reads))  # noqa: S301
    return figures


async def _state_reads(
    generation: Generation, filters: Filters, today: date
) -> tuple[Read, Read, Read]:
    """The cells a filter set reads, once per projection state. The state is read first: a
    read that overlaps a batch is kept under the state before it, which the batch's end (its
    progress bump) leaves behind."""
    state = (generation.db.name, generation.name, await generation.progress(), filters, today)
    kept = _STATE_READS.get(state)
    if kept is not None:
        _STATE_READS.move_to_end(state)
        return kept
    reads = await read_all(generation, filters, today)
    _STATE_READS[state] = reads
    while len(_STATE_READS) > STATE_READS:
        _STATE_READS.popitem(last=False)
    return reads


@lru_cache(maxsize=512)
def _figures(filters: Filters, today: date, whole: bool, reads: tuple[Read, Read, Read]) -> bytes:
    """The exact figures from the cells read (the period's, all time's and the due month's;
    pure: equal stored cells, equal figures), pickled (each caller gets its own copy)."""
    found, whole_time, due_month = reads
    counts = found.counts(cell_of(filters))
    sessions = found.counts(cell_of(filters, training=True))
    all_time = whole_time.counts(cell_of(filters))
    due_days = due_month.counts(cell_of(filters))
    sex_age = pairs(counts, "v")
    victims_table = table(
        sex_age,
        {s: SEXES[s] for s in SEX_ORDER},
        {a: AGE_GROUPS[a] for a in AGE_ORDER},
    )
    figures = {
        "filters": filters.as_dict(),
        "cases_opened": int(counts["cases"]),
        "victims": victims_table,
        "per_year": per_year(all_time, filters),
        "victims_by_region_of_origin": vector(under(counts, "vo"), REGIONS, whole=whole),
        "victims_by_region_of_exploitation": vector(under(counts, "vx"), REGIONS, whole=whole),
        "care": {
            "by_type": vector(under(counts, "care"), CARE_TYPES, whole=whole),
            "victims_cared_for": int(counts["dc"]),
        },
        "referrals": referrals(counts, all_time, due_days, today=today, whole=whole),
        "returns_home": {
            "by_region_of_origin": vector(under(counts, "ret"), REGIONS, whole=whole),
            "funded": int(counts["retf"]),
            "victims": int(counts["dt"]),
        },
        "reintegration": {
            "by_milestone": vector(under(counts, "mil"), REINTEGRATION_MILESTONES, whole=whole),
            "victims": int(counts["dm"]),
        },
        "training": training(sessions, whole),
        "route_stages": route_stages(counts, all_time, due_days, today=today),
    }
    return pickle.dumps(figures, protocol=pickle.HIGHEST_PROTOCOL)


async def known_years(generation: Generation, filters: Filters) -> list[int]:
    """The years anything counts in, for the filters' offices (the suppressed view's rows)."""
    return await years_known(generation, filters)


def per_year(all_time: Counts, filters: Filters) -> list[Document]:
    """New cases and victims per year, with growth over the previous year."""
    cases = {int(y): n for y, n in under(all_time, "cy").items()}
    victims = {int(y): n for y, n in under(all_time, "vy").items()}
    years = sorted(set(cases) | set(victims))
    if filters.year is not None:
        years = [y for y in years if y in {filters.year, filters.year - 1}] or [filters.year]
    elif filters.year_from is not None or filters.year_to is not None:
        low = filters.year_from if filters.year_from is not None else -(10**6)
        high = filters.year_to if filters.year_to is not None else 10**6
        years = [y for y in years if low <= y <= high]
    return [
        {
            "year": year,
            "cases": cases.get(year, 0),
            "cases_growth_pct": growth(cases.get(year, 0), cases.get(year - 1, 0)),
            "victims": victims.get(year, 0),
            "victims_growth_pct": growth(victims.get(year, 0), victims.get(year - 1, 0)),
        }
        for year in years
    ]


def referrals(
    counts: Counts, all_time: Counts, due_days: Counts, *, today: date, whole: bool = False
) -> Document:
    """Referrals by institution kind and outcome, acceptance, time to acceptance, overdue."""
    by_pair = pairs(counts, "r")
    kinds = {
        k: INSTITUTION_KINDS[k]
        for k in INSTITUTION_KINDS
        if whole or any(by_pair.get((k, o), 0) for o in OUTCOMES)
    }
    accepted = int(counts["racc"])
    declined = sum(n for (_, outcome), n in by_pair.items() if outcome == "declined")
    days = {int(d): n for d, n in under(counts, "rd").items()}
    overdue = overdue_now(all_time, due_days, "r", today)
    median = median_of_histogram(days)
    return {
        "by_institution_and_outcome": table(by_pair, kinds, OUTCOMES),
        "victims_by_institution": vector(under(counts, "drk"), INSTITUTION_KINDS, whole=whole),
        "victims_referred": int(counts["dr"]),
        "accepted": accepted,
        "answered": accepted + declined,
        "acceptance_rate_pct": round(accepted * 100 / (accepted + declined), 1)
        if accepted + declined
        else None,
        "median_days_to_acceptance": round(median, 1) if median is not None else None,
        "overdue_now": overdue,
    }


def training(counts: Counts, whole: bool = False) -> Document:
    """Sessions held and people reached (distinct participants plus headcounts).

    Each person counts once, with the attributes of their first session in the period (by
    start date, then id, as training's GET /reach), so the breakdowns add up to the distinct
    total. `by_region` is where the session was held (training's meaning); the participants'
    own region is the separate figure `by_home_region` (named participants only)."""

    def both(named: str, counted: str) -> dict[str, Any]:
        out: dict[str, Any] = dict(under(counts, named))
        for key, n in under(counts, counted).items():
            out[key] = out.get(key, 0) + n
        return out

    by_audience = both("dpa", "tha")
    participants, headcount = int(counts["dp"]), int(counts["thc"])
    assessed = int(counts["tac"])
    return {
        "sessions_held": int(counts["ts"]),
        "people_reached": participants + headcount,
        "participants": participants,
        "headcount": headcount,
        "by_audience": vector(by_audience, AUDIENCES, whole=whole),
        "by_region": vector(both("dpr", "thr"), REGIONS, whole=whole),
        "by_home_region": vector(under(counts, "dph"), REGIONS, whole=whole),
        "by_sex": vector(both("dps", "ths"), SEXES, keep_all=True, whole=whole),
        "car_staff": by_audience.get("car_staff", 0),
        "assessments": assessed,
        "average_test_gain": round(counts["tag"] / assessed, 1) if assessed else None,
    }
