"""The figures, computed on read from the facts ($match + $group/$sum), exact.

Every table is built from its cells and its totals are sums of those cells, so totals always
equal the sum of their parts. `suppressed()` turns exact figures into the auditor, donor and
export view.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
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

from ruta_analytics.facts import (
    ASSESSMENTS,
    ATTENDANCE,
    CARE,
    CASES,
    HEADCOUNTS,
    MILESTONES,
    REFERRALS,
    RETURNS,
    SESSIONS,
    VICTIMS,
)
from ruta_analytics.store import Generation
from ruta_analytics.suppression import (
    suppress_count,
    suppress_grid,
    suppress_vector,
    with_margins,
)

Document = dict[str, Any]

UNKNOWN: Final = "sin_dato"
UNKNOWN_LABEL: Final = "Sin dato"
OUTCOMES: Final[dict[str, str]] = {
    "pending": "Pendiente",
    "accepted": "Aceptada",
    "declined": "Rechazada",
    "completed": "Concluida",
    "revoked": "Revocada",
}
SEX_ORDER: Final = ("female", "male", "unknown")
AGE_ORDER: Final = ("adult", "minor", "unknown")


@dataclass(frozen=True)
class Filters:
    """What a figure is restricted to (None: everything)."""

    year: int | None = None
    month: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    office: str | None = None
    region: str | None = None  # region of exploitation (cases); region of a training session
    crime_type: str | None = None

    def period(self) -> Document:
        """The period condition on a fact's year and month (Lima time)."""
        match: Document = {}
        if self.year is not None:
            match["year"] = self.year
        elif self.year_from is not None or self.year_to is not None:
            bounds: Document = {}
            if self.year_from is not None:
                bounds["$gte"] = self.year_from
            if self.year_to is not None:
                bounds["$lte"] = self.year_to
            match["year"] = bounds
        if self.month is not None:
            match["month"] = self.month
        return match

    def case_match(self, *, period: bool = True) -> Document:
        """Conditions for case facts and the facts that carry their case's attributes."""
        match = self.period() if period else {}
        if self.office is not None:
            match["office"] = self.office
        if self.region is not None:
            match["region_of_exploitation"] = self.region
        if self.crime_type is not None:
            match["crime_types"] = self.crime_type
        return match

    def session_match(self) -> Document:
        """Conditions for training sessions (crime types do not apply to training)."""
        match = self.period()
        if self.office is not None:
            match["office"] = self.office
        if self.region is not None:
            match["region"] = self.region
        return match

    def as_dict(self) -> Document:
        """The filters that are set."""
        return {key: value for key, value in asdict(self).items() if value is not None}


def table(
    counts: dict[tuple[str, str], int],
    rows: dict[str, str],
    columns: dict[str, str],
) -> Document:
    """A two-way table with row and column totals (all derived from the cells)."""
    row_keys = list(rows)
    cells = [[counts.get((r, c), 0) for c in columns] for r in row_keys]
    return {
        "rows": row_keys,
        "row_labels": [rows[r] for r in row_keys],
        "columns": list(columns),
        "column_labels": list(columns.values()),
        "cells": cells,
        "row_totals": [sum(row) for row in cells],
        "column_totals": [sum(row[j] for row in cells) for j in range(len(columns))],
        "total": sum(sum(row) for row in cells),
    }


def vector(counts: dict[str, int], labels: dict[str, str], *, keep_all: bool = False) -> Document:
    """A one-way table (entries and their total); unknown values last, labelled."""
    keys = [key for key in labels if keep_all or counts.get(key, 0)]
    keys += sorted(key for key in counts if key not in labels and key != UNKNOWN)
    if counts.get(UNKNOWN, 0):
        keys.append(UNKNOWN)
    values = [counts.get(key, 0) for key in keys]
    return {
        "keys": keys,
        "labels": [labels.get(key, UNKNOWN_LABEL if key == UNKNOWN else key) for key in keys],
        "values": values,
        "total": sum(values),
    }


async def count_by(
    generation: Generation, collection: str, match: Document, *fields: str
) -> dict[tuple[Any, ...], int]:
    """Counts of documents matching `match`, grouped by `fields` (None becomes UNKNOWN)."""
    pipeline: list[Document] = [
        {"$match": match},
        {"$group": {"_id": {f: f"${f}" for f in fields}, "n": {"$sum": 1}}},
    ]
    result: dict[tuple[Any, ...], int] = defaultdict(int)
    async for row in await generation.collection(collection).aggregate(pipeline):
        key = tuple(_bucket(row["_id"].get(f)) for f in fields)
        result[key] += int(row["n"])
    return dict(result)


def _bucket(value: Any) -> Any:
    return UNKNOWN if value is None else value


def growth(current: int, previous: int | None) -> float | None:
    """Growth over the previous year in percent (one decimal), None without a base."""
    if not previous:
        return None
    return round((current - previous) * 100 / previous, 1)


async def exact_figures(
    generation: Generation, filters: Filters, *, today: date | None = None
) -> Document:
    """Every figure of the dashboard and the reports, exact."""
    case_match = filters.case_match()
    sex_age = await count_by(generation, VICTIMS, case_match, "sex", "age_group")
    victims_table = table(
        {(s, a): n for (s, a), n in sex_age.items()},
        {s: SEXES[s] for s in SEX_ORDER},
        {a: AGE_GROUPS[a] for a in AGE_ORDER},
    )
    cases_opened = sum((await count_by(generation, CASES, {**case_match, "opened": True})).values())
    return {
        "filters": filters.as_dict(),
        "cases_opened": cases_opened,
        "victims": victims_table,
        "per_year": await per_year(generation, filters),
        "victims_by_region_of_origin": await _regions(generation, case_match, "region_of_origin"),
        "victims_by_region_of_exploitation": await _regions(
            generation, case_match, "region_of_exploitation"
        ),
        "care": await care(generation, case_match),
        "referrals": await referrals(generation, filters, today=today or today_lima()),
        "returns_home": await returns_home(generation, case_match),
        "reintegration": await reintegration(generation, case_match),
        "training": await training(generation, filters),
    }


async def per_year(generation: Generation, filters: Filters) -> list[Document]:
    """New cases and victims per year, with growth over the previous year."""
    base = Filters(office=filters.office, region=filters.region, crime_type=filters.crime_type)
    match = base.case_match(period=False)
    cases = await count_by(generation, CASES, {**match, "opened": True}, "year")
    victims = await count_by(generation, VICTIMS, match, "year")
    known = {y for (y,) in cases} | {y for (y,) in victims}
    years = sorted(y for y in known if isinstance(y, int))
    if filters.year is not None:
        years = [y for y in years if y in {filters.year, filters.year - 1}] or [filters.year]
    elif filters.year_from is not None or filters.year_to is not None:
        low = filters.year_from if filters.year_from is not None else -(10**6)
        high = filters.year_to if filters.year_to is not None else 10**6
        years = [y for y in years if low <= y <= high]
    rows = []
    for year in years:
        case_count = cases.get((year,), 0)
        victim_count = victims.get((year,), 0)
        rows.append(
            {
                "year": year,
                "cases": case_count,
                "cases_growth_pct": growth(case_count, cases.get((year - 1,), 0)),
                "victims": victim_count,
                "victims_growth_pct": growth(victim_count, victims.get((year - 1,), 0)),
            }
        )
    return rows


async def _regions(generation: Generation, match: Document, field: str) -> Document:
    counts = await count_by(generation, VICTIMS, match, field)
    return vector({key: n for (key,), n in counts.items()}, REGIONS)


async def care(generation: Generation, match: Document) -> Document:
    """Care acts by type, and how many distinct victims received care."""
    by_type = await count_by(generation, CARE, match, "care_type")
    by_victim = await count_by(generation, CARE, match, "victim_id")
    return {
        "by_type": vector({key: n for (key,), n in by_type.items()}, CARE_TYPES),
        "victims_cared_for": len(by_victim),
    }


async def referrals(generation: Generation, filters: Filters, *, today: date) -> Document:
    """Referrals by institution kind and outcome, acceptance, time to acceptance, overdue."""
    match = filters.case_match()
    counts = await count_by(generation, REFERRALS, match, "institution_kind", "outcome")
    kinds = {
        k: INSTITUTION_KINDS[k]
        for k in INSTITUTION_KINDS
        if any(counts.get((k, o), 0) for o in OUTCOMES)
    }
    pairs = await count_by(generation, REFERRALS, match, "institution_kind", "victim_id")
    victims_by_kind: dict[str, int] = defaultdict(int)
    for kind, _victim in pairs:
        victims_by_kind[kind] += 1
    accepted = sum(
        (await count_by(generation, REFERRALS, {**match, "accepted_ever": True})).values()
    )
    declined = sum(n for (_, outcome), n in counts.items() if outcome == "declined")
    days = [
        float(doc["days_to_acceptance"])
        async for doc in generation.collection(REFERRALS).find(
            {**match, "accepted_ever": True, "days_to_acceptance": {"$exists": True}},
            {"days_to_acceptance": 1},
        )
    ]
    overdue_match = {
        **filters.case_match(period=False),
        "outcome": "pending",
        "$or": [{"overdue": True}, {"due_on": {"$lt": today.isoformat()}}],
    }
    overdue = sum((await count_by(generation, REFERRALS, overdue_match)).values())
    return {
        "by_institution_and_outcome": table(counts, kinds, OUTCOMES),
        "victims_by_institution": vector(dict(victims_by_kind), INSTITUTION_KINDS),
        "victims_referred": len({victim for _, victim in pairs}),
        "accepted": accepted,
        "answered": accepted + declined,
        "acceptance_rate_pct": round(accepted * 100 / (accepted + declined), 1)
        if accepted + declined
        else None,
        "median_days_to_acceptance": round(statistics.median(days), 1) if days else None,
        "overdue_now": overdue,
    }


async def returns_home(generation: Generation, match: Document) -> Document:
    """Returns home: how many, how many victims, how many funded, by region of origin."""
    by_region = await count_by(generation, RETURNS, match, "region_of_origin")
    funded = await count_by(generation, RETURNS, match, "funded")
    victims = await count_by(generation, RETURNS, match, "victim_id")
    return {
        "by_region_of_origin": vector({key: n for (key,), n in by_region.items()}, REGIONS),
        "funded": funded.get((True,), 0),
        "victims": len(victims),
    }


async def reintegration(generation: Generation, match: Document) -> Document:
    """Reintegration milestones reached, by kind."""
    counts = await count_by(generation, MILESTONES, match, "milestone")
    victims = await count_by(generation, MILESTONES, match, "victim_id")
    return {
        "by_milestone": vector({key: n for (key,), n in counts.items()}, REINTEGRATION_MILESTONES),
        "victims": len(victims),
    }


async def training(generation: Generation, filters: Filters) -> Document:
    """Sessions held and people reached (distinct participants plus headcounts)."""
    sessions = {
        doc["_id"]: doc
        async for doc in generation.collection(SESSIONS).find(
            {**filters.session_match(), "status": {"$ne": "cancelled"}},
            {"status": 1, "region": 1, "day": 1},
        )
    }
    ids = sorted(sessions)
    attendance = [
        doc
        async for doc in generation.collection(ATTENDANCE).find(
            {"session_id": {"$in": ids}},
            {"session_id": 1, "participant_id": 1, "sex": 1, "audience": 1, "region": 1},
        )
    ]
    # Each person counts once, with the attributes of their first session (by date, then id),
    # so the breakdowns add up to the distinct total.
    first: dict[str, Document] = {}
    for doc in sorted(
        attendance, key=lambda d: (sessions[d["session_id"]].get("day", ""), d["session_id"])
    ):
        first.setdefault(doc["participant_id"], doc)
    by_audience: dict[str, int] = defaultdict(int)
    by_region: dict[str, int] = defaultdict(int)
    by_sex: dict[str, int] = defaultdict(int)
    for doc in first.values():
        by_audience[doc["audience"]] += 1
        by_sex[doc["sex"]] += 1
        region = doc.get("region") or sessions[doc["session_id"]].get("region")
        by_region[region or UNKNOWN] += 1
    headcount = 0
    async for doc in generation.collection(HEADCOUNTS).find({"session_id": {"$in": ids}}):
        people = {"female": doc["female"], "male": doc["male"], "unknown": doc["unknown"]}
        for sex, n in people.items():
            by_sex[sex] += n
        by_audience[doc["audience"]] += sum(people.values())
        by_region[sessions[doc["session_id"]].get("region") or UNKNOWN] += sum(people.values())
        headcount += sum(people.values())
    gains = [
        float(doc["gain"])
        async for doc in generation.collection(ASSESSMENTS).find(
            {"session_id": {"$in": ids}}, {"gain": 1}
        )
    ]
    return {
        "sessions_held": sum(1 for doc in sessions.values() if doc.get("status") == "held"),
        "people_reached": len(first) + headcount,
        "participants": len(first),
        "headcount": headcount,
        "by_audience": vector(dict(by_audience), AUDIENCES),
        "by_region": vector(dict(by_region), REGIONS),
        "by_sex": vector(dict(by_sex), SEXES, keep_all=True),
        "car_staff": by_audience.get("car_staff", 0),
        "assessments": len(gains),
        "average_test_gain": round(statistics.fmean(gains), 1) if gains else None,
    }


# --- the suppressed view -----------------------------------------------------------------


def suppressed(figures: Document, k: int) -> Document:
    """The auditor, donor and export view: small cells and whatever reveals them hidden.

    Hidden values become null and the document says `suppressed: true` with its k.
    """
    out: Document = {"filters": figures["filters"], "k": k, "suppressed": True}
    out["cases_opened"] = _count(figures["cases_opened"], k)
    out["victims"] = _hide_table(figures["victims"], k)
    out["per_year"] = _hide_years(figures["per_year"], k)
    out["victims_by_region_of_origin"] = _hide_vector(figures["victims_by_region_of_origin"], k)
    out["victims_by_region_of_exploitation"] = _hide_vector(
        figures["victims_by_region_of_exploitation"], k
    )
    care = figures["care"]
    out["care"] = {
        "by_type": _hide_vector(care["by_type"], k),
        "victims_cared_for": _count(care["victims_cared_for"], k),
    }
    ref = figures["referrals"]
    out["referrals"] = {
        "by_institution_and_outcome": _hide_table(ref["by_institution_and_outcome"], k),
        "victims_by_institution": _hide_vector(ref["victims_by_institution"], k),
        "victims_referred": _count(ref["victims_referred"], k),
        "accepted": _count(ref["accepted"], k),
        "answered": _count(ref["answered"], k),
        "acceptance_rate_pct": ref["acceptance_rate_pct"] if ref["answered"] >= k else None,
        "median_days_to_acceptance": ref["median_days_to_acceptance"]
        if ref["accepted"] >= k
        else None,
        "overdue_now": _count(ref["overdue_now"], k),
    }
    ret = figures["returns_home"]
    out["returns_home"] = {
        "by_region_of_origin": _hide_vector(ret["by_region_of_origin"], k),
        "funded": _count(ret["funded"], k),
        "victims": _count(ret["victims"], k),
    }
    rei = figures["reintegration"]
    out["reintegration"] = {
        "by_milestone": _hide_vector(rei["by_milestone"], k),
        "victims": _count(rei["victims"], k),
    }
    tr = figures["training"]
    out["training"] = {
        "sessions_held": tr["sessions_held"],  # sessions are not people
        "people_reached": _count(tr["people_reached"], k),
        "participants": _count(tr["participants"], k),
        "headcount": _count(tr["headcount"], k),
        "by_audience": _hide_vector(tr["by_audience"], k),
        "by_region": _hide_vector(tr["by_region"], k),
        "by_sex": _hide_vector(tr["by_sex"], k),
        "car_staff": _count(tr["car_staff"], k),
        "assessments": _count(tr["assessments"], k),
        "average_test_gain": tr["average_test_gain"] if tr["assessments"] >= k else None,
    }
    return out


def _count(value: int, k: int) -> int | None:
    return None if suppress_count(value, k) else value


def _hide_table(source: Document, k: int) -> Document:
    cells = source["cells"]
    if not cells or not source["columns"]:
        return {**source}
    grid = with_margins(cells)
    hidden = suppress_grid(grid, k)
    height, width = len(cells), len(source["columns"])

    def show(i: int, j: int) -> int | None:
        return None if hidden[i][j] else grid[i][j]

    return {
        **source,
        "cells": [[show(i, j) for j in range(width)] for i in range(height)],
        "row_totals": [show(i, width) for i in range(height)],
        "column_totals": [show(height, j) for j in range(width)],
        "total": show(height, width),
    }


def _hide_vector(source: Document, k: int) -> Document:
    mask, total_hidden = suppress_vector(source["values"], k)
    return {
        **source,
        "values": [None if hide else v for v, hide in zip(source["values"], mask, strict=True)],
        "total": None if total_hidden else source["total"],
    }


def _hide_years(rows: list[Document], k: int) -> list[Document]:
    hidden_cases = {row["year"]: suppress_count(row["cases"], k) for row in rows}
    hidden_victims = {row["year"]: suppress_count(row["victims"], k) for row in rows}
    out = []
    for row in rows:
        year = row["year"]
        # Without the previous year's count at hand, growth could reveal a small one: hide it.
        previous_hidden_c = hidden_cases.get(year - 1, True)
        previous_hidden_v = hidden_victims.get(year - 1, True)
        out.append(
            {
                "year": year,
                "cases": None if hidden_cases[year] else row["cases"],
                "cases_growth_pct": None
                if hidden_cases[year] or previous_hidden_c
                else row["cases_growth_pct"],
                "victims": None if hidden_victims[year] else row["victims"],
                "victims_growth_pct": None
                if hidden_victims[year] or previous_hidden_v
                else row["victims_growth_pct"],
            }
        )
    return out
