"""Fixtures of the analytics integration tests: a plain recount of the figures from the events."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from ruta_shared.events import EventEnvelope

Doc = dict[str, Any]
LIMA = timedelta(hours=-5)


def _lima_year(text: str) -> tuple[int, int]:
    moment = datetime.fromisoformat(text) + LIMA
    return moment.year, moment.month


def recount_figures(envelopes: list[EventEnvelope], year: int | None = None) -> Doc:
    """The figures, recounted naively from the distinct events (no database)."""
    seen: dict[Any, EventEnvelope] = {}
    for envelope in envelopes:
        seen.setdefault(envelope.id, envelope)
    events = list(seen.values())
    cases: dict[str, Doc] = {}
    for e in events:
        if e.type == "case.opened":
            cases[e.data["case_id"]] = e.data

    def in_period(y: int) -> bool:
        return year is None or y == year

    sex_age: Counter[tuple[str, str]] = Counter()
    origin: Counter[str] = Counter()
    exploitation: Counter[str] = Counter()
    care: Counter[str] = Counter()
    cases_opened = 0
    per_year_cases: Counter[int] = Counter()
    per_year_victims: Counter[int] = Counter()
    referrals: dict[str, Doc] = {}
    returns: Counter[str] = Counter()
    milestones: Counter[str] = Counter()
    for e in events:
        d = e.data
        if e.type == "case.opened":
            y, _ = _lima_year(d["opened_at"])
            per_year_cases[y] += 1
            cases_opened += in_period(y)
        elif e.type == "victim.registered":
            y, _ = _lima_year(d["registered_at"])
            per_year_victims[y] += 1
            if in_period(y):
                sex_age[(d["sex"], d["age_group"])] += 1
                origin[d.get("region_of_origin") or "sin_dato"] += 1
                case = cases.get(d["case_id"], {})
                exploitation[case.get("region_of_exploitation") or "sin_dato"] += 1
        elif e.type == "care.provided" and in_period(date.fromisoformat(d["provided_on"]).year):
            care[d["care_type"]] += 1
        elif e.type.startswith("referral."):
            ref = referrals.setdefault(d["referral_id"], {"kind": d["institution_kind"]})
            stamp_field = {
                "referral.requested": "requested_at",
                "referral.sent": "sent_at",
                "referral.accepted": "accepted_at",
                "referral.declined": "declined_at",
                "referral.completed": "completed_at",
            }.get(e.type)
            if stamp_field:
                ref[stamp_field] = datetime.fromisoformat(d[stamp_field])
            if e.type == "referral.requested":
                ref["year"] = _lima_year(d["requested_at"])[0]
            outcome = {
                "referral.requested": "pending",
                "referral.accepted": "accepted",
                "referral.declined": "declined",
                "referral.completed": "completed",
            }.get(e.type)
            if outcome:
                ref["outcome"] = outcome
        elif e.type == "victim.returned_home" and in_period(
            date.fromisoformat(d["returned_on"]).year
        ):
            returns[d["region_of_origin"]] += 1
        elif e.type == "reintegration.milestone_reached" and in_period(
            date.fromisoformat(d["reached_on"]).year
        ):
            milestones[d["milestone"]] += 1
    refs = [r for r in referrals.values() if in_period(r["year"])]
    by_kind_outcome: Counter[tuple[str, str]] = Counter((r["kind"], r["outcome"]) for r in refs)
    accepted = [r for r in refs if "accepted_at" in r]
    declined = [r for r in refs if r["outcome"] == "declined"]
    days = [
        (r["accepted_at"] - r.get("sent_at", r["requested_at"])).total_seconds() / 86400
        for r in accepted
    ]
    return {
        "cases_opened": cases_opened,
        "sex_age": dict(sex_age),
        "victims_total": sum(sex_age.values()),
        "origin": dict(origin),
        "exploitation": dict(exploitation),
        "care": dict(care),
        "per_year_cases": dict(per_year_cases),
        "per_year_victims": dict(per_year_victims),
        "referrals": dict(by_kind_outcome),
        "acceptance_rate_pct": round(len(accepted) * 100 / (len(accepted) + len(declined)), 1)
        if accepted or declined
        else None,
        "median_days": round(statistics.median(days), 1) if days else None,
        "returns": dict(returns),
        "milestones": dict(milestones),
    }


@pytest.fixture
def recount() -> Callable[..., Doc]:
    """The plain recount, as a fixture (test modules import nothing from each other)."""
    return recount_figures


def figures_as_recount(figures: Doc) -> Doc:
    """Exact figures reshaped like `recount_figures`, for one equality assertion."""
    victims = figures["victims"]
    sex_age = {
        (row, column): victims["cells"][i][j]
        for i, row in enumerate(victims["rows"])
        for j, column in enumerate(victims["columns"])
        if victims["cells"][i][j]
    }
    refs = figures["referrals"]["by_institution_and_outcome"]
    referrals = {
        (row, column): refs["cells"][i][j]
        for i, row in enumerate(refs["rows"])
        for j, column in enumerate(refs["columns"])
        if refs["cells"][i][j]
    }

    def vec(v: Doc) -> dict[str, int]:
        return {k: n for k, n in zip(v["keys"], v["values"], strict=True) if n}

    return {
        "cases_opened": figures["cases_opened"],
        "sex_age": sex_age,
        "victims_total": victims["total"],
        "origin": vec(figures["victims_by_region_of_origin"]),
        "exploitation": vec(figures["victims_by_region_of_exploitation"]),
        "care": vec(figures["care"]["by_type"]),
        "per_year_cases": {r["year"]: r["cases"] for r in figures["per_year"] if r["cases"]},
        "per_year_victims": {r["year"]: r["victims"] for r in figures["per_year"] if r["victims"]},
        "referrals": referrals,
        "acceptance_rate_pct": figures["referrals"]["acceptance_rate_pct"],
        "median_days": figures["referrals"]["median_days_to_acceptance"],
        "returns": vec(figures["returns_home"]["by_region_of_origin"]),
        "milestones": vec(figures["reintegration"]["by_milestone"]),
    }


@pytest.fixture
def reshape() -> Callable[[Doc], Doc]:
    """`figures_as_recount` as a fixture."""
    return figures_as_recount
