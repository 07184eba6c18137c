"""Test oracle: the figures computed from the fact documents by queries ($match + $group), as
Ruta computed them before the aggregates (median over whole days). The aggregates must equal it."""

from __future__ import annotations

import statistics
from collections import defaultdict
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

from ruta_analytics.figures.models import (
    AGE_ORDER,
    OUTCOMES,
    SEX_ORDER,
    UNKNOWN,
    Document,
    Filters,
)
from ruta_analytics.figures.rules import growth, table, vector
from ruta_analytics.projection.models import (
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
from ruta_analytics.projection.store import Generation
from ruta_analytics.testing import route_oracle

# A victim record a coordinator found to be the same person as another one (`duplicate_of`)
# counts no more in the victim figures; care, referrals, returns and milestones are acts and
# keep counting (the distinct counts among them count records, see the README).
COUNTED: Final[Document] = {"duplicate_of": None}


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


async def oracle_figures(
    generation: Generation, filters: Filters, *, today: date | None = None, whole: bool = False
) -> Document:
    """Every figure of the dashboard and the reports, exact (`whole`: every vector and
    table lists its whole key set, as the suppressed view needs)."""
    case_match = filters.case_match()
    sex_age = await count_by(generation, VICTIMS, {**case_match, **COUNTED}, "sex", "age_group")
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
        "victims_by_region_of_origin": await _regions(
            generation, case_match, "region_of_origin", whole
        ),
        "victims_by_region_of_exploitation": await _regions(
            generation, case_match, "region_of_exploitation", whole
        ),
        "care": await care(generation, case_match, whole),
        "referrals": await referrals(generation, filters, today=today or today_lima(), whole=whole),
        "returns_home": await returns_home(generation, case_match, whole),
        "reintegration": await reintegration(generation, case_match, whole),
        "training": await training(generation, filters, whole),
        "route_stages": await route_oracle.route_stages(
            generation, filters, today=today or today_lima()
        ),
    }


async def per_year(generation: Generation, filters: Filters) -> list[Document]:
    """New cases and victims per year, with growth over the previous year."""
    base = Filters(
        office=filters.office,
        offices=filters.offices,
        region=filters.region,
        crime_type=filters.crime_type,
        project=filters.project,
    )
    match = base.case_match(period=False)
    cases = await count_by(generation, CASES, {**match, "opened": True}, "year")
    victims = await count_by(generation, VICTIMS, {**match, **COUNTED}, "year")
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


async def _regions(generation: Generation, match: Document, field: str, whole: bool) -> Document:
    counts = await count_by(generation, VICTIMS, {**match, **COUNTED}, field)
    return vector({key: n for (key,), n in counts.items()}, REGIONS, whole=whole)


async def care(generation: Generation, match: Document, whole: bool = False) -> Document:
    """Care acts by type, and how many distinct victims received care."""
    by_type = await count_by(generation, CARE, match, "care_type")
    by_victim = await count_by(generation, CARE, match, "victim_id")
    return {
        "by_type": vector({key: n for (key,), n in by_type.items()}, CARE_TYPES, whole=whole),
        "victims_cared_for": len(by_victim),
    }


async def referrals(
    generation: Generation, filters: Filters, *, today: date, whole: bool = False
) -> Document:
    """Referrals by institution kind and outcome, acceptance, time to acceptance, overdue."""
    match = filters.case_match()
    counts = await count_by(generation, REFERRALS, match, "institution_kind", "outcome")
    kinds = {
        k: INSTITUTION_KINDS[k]
        for k in INSTITUTION_KINDS
        if whole or any(counts.get((k, o), 0) for o in OUTCOMES)
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
        float(doc["whole_days_to_acceptance"])
        async for doc in generation.collection(REFERRALS).find(
            {**match, "accepted_ever": True, "whole_days_to_acceptance": {"$exists": True}},
            {"whole_days_to_acceptance": 1},
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
        "victims_by_institution": vector(dict(victims_by_kind), INSTITUTION_KINDS, whole=whole),
        "victims_referred": len({victim for _, victim in pairs}),
        "accepted": accepted,
        "answered": accepted + declined,
        "acceptance_rate_pct": round(accepted * 100 / (accepted + declined), 1)
        if accepted + declined
        else None,
        "median_days_to_acceptance": round(statistics.median(days), 1) if days else None,
        "overdue_now": overdue,
    }


async def returns_home(generation: Generation, match: Document, whole: bool = False) -> Document:
    """Returns home: how many, how many victims, how many funded, by region of origin."""
    by_region = await count_by(generation, RETURNS, match, "region_of_origin")
    funded = await count_by(generation, RETURNS, match, "funded")
    victims = await count_by(generation, RETURNS, match, "victim_id")
    return {
        "by_region_of_origin": vector(
            {key: n for (key,), n in by_region.items()}, REGIONS, whole=whole
        ),
        "funded": funded.get((True,), 0),
        "victims": len(victims),
    }


async def reintegration(generation: Generation, match: Document, whole: bool = False) -> Document:
    """Reintegration milestones reached, by kind."""
    counts = await count_by(generation, MILESTONES, match, "milestone")
    victims = await count_by(generation, MILESTONES, match, "victim_id")
    return {
        "by_milestone": vector(
            {key: n for (key,), n in counts.items()}, REINTEGRATION_MILESTONES, whole=whole
        ),
        "victims": len(victims),
    }


async def training(generation: Generation, filters: Filters, whole: bool = False) -> Document:
    """Sessions held and people reached (distinct participants plus headcounts)."""
    sessions = {
        doc["_id"]: doc
        async for doc in generation.collection(SESSIONS).find(
            {**filters.session_match(), "status": {"$ne": "cancelled"}},
            {"status": 1, "region": 1, "day": 1, "starts_on": 1},
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
    # Each person counts once, with the attributes of their first session (by start date,
    # then id, as training's GET /reach), so the breakdowns add up to the distinct total.
    # `by_region` is where the session was held (training's meaning); the participants' own
    # region is the separate figure `by_home_region` (named participants only).
    first: dict[str, Document] = {}
    for doc in sorted(attendance, key=lambda d: _session_order(sessions[d["session_id"]])):
        first.setdefault(doc["participant_id"], doc)
    by_audience: dict[str, int] = defaultdict(int)
    by_region: dict[str, int] = defaultdict(int)
    by_home_region: dict[str, int] = defaultdict(int)
    by_sex: dict[str, int] = defaultdict(int)
    for doc in first.values():
        by_audience[doc["audience"]] += 1
        by_sex[doc["sex"]] += 1
        by_region[sessions[doc["session_id"]].get("region") or UNKNOWN] += 1
        by_home_region[doc.get("region") or UNKNOWN] += 1
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
        "by_audience": vector(dict(by_audience), AUDIENCES, whole=whole),
        "by_region": vector(dict(by_region), REGIONS, whole=whole),
        "by_home_region": vector(dict(by_home_region), REGIONS, whole=whole),
        "by_sex": vector(dict(by_sex), SEXES, keep_all=True, whole=whole),
        "car_staff": by_audience.get("car_staff", 0),
        "assessments": len(gains),
        "average_test_gain": round(statistics.fmean(gains), 1) if gains else None,
    }


def _session_order(session: Document) -> tuple[str, str]:
    return (str(session.get("starts_on") or session.get("day") or ""), str(session["_id"]))
