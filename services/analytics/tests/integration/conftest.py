"""Fixtures of the analytics integration tests: a plain recount of the figures from the events."""

from __future__ import annotations

import math
import random
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from ruta_shared.events import EventEnvelope
from ruta_shared.reference import AGE_GROUPS, CRIME_TYPES, REGIONS, SEXES

Doc = dict[str, Any]
LIMA = timedelta(hours=-5)


def _lima_year(text: str) -> tuple[int, int]:
    moment = datetime.fromisoformat(text) + LIMA
    return moment.year, moment.month


def recount_figures(
    envelopes: list[EventEnvelope],
    year: int | None = None,
    *,
    office: str | None = None,
    region: str | None = None,
    crime_type: str | None = None,
) -> Doc:
    """The figures, recounted naively from the distinct events (no database), with the
    latest case details and victim attributes, and without victims found to be duplicates."""
    seen: dict[Any, EventEnvelope] = {}
    for envelope in envelopes:
        seen.setdefault(envelope.id, envelope)
    events = list(seen.values())
    cases: dict[str, Doc] = {}
    corrected: dict[str, Doc] = {}
    dropped: set[str] = set()
    for e in sorted(events, key=lambda e: (e.subject, e.sequence)):
        if e.type in ("case.opened", "case.details_updated"):
            cases[e.data["case_id"]] = {**cases.get(e.data["case_id"], {}), **e.data}
        elif e.type == "victim.attributes_corrected":
            corrected[e.data["victim_id"]] = e.data
        elif e.type == "victim.duplicate_resolved" and e.data["outcome"] == "same_person":
            pair = {e.data["victim_id"], e.data["other_victim_id"]}
            dropped |= pair - {e.data["kept_victim_id"]}

    def in_scope(d: Doc) -> bool:
        case = cases.get(d["case_id"], {})
        return (
            (office is None or d.get("office") == office)
            and (region is None or case.get("region_of_exploitation") == region)
            and (crime_type is None or crime_type in case.get("crime_types", []))
        )

    events = [e for e in events if "case_id" not in e.data or in_scope(e.data)]

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
        elif e.type == "victim.registered" and d["victim_id"] not in dropped:
            d = {**d, **corrected.get(d["victim_id"], {})}
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
        math.floor((r["accepted_at"] - r.get("sent_at", r["requested_at"])).total_seconds() / 86400)
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


def with_corrections(rng: random.Random, envelopes: list[EventEnvelope]) -> list[EventEnvelope]:
    """The stream with case details and victim attributes corrected (some several times,
    some before the case's later facts), and a few victims resolved as duplicates; every
    subject's sequences renumbered in the new order."""
    after: dict[int, list[tuple[str, Doc]]] = defaultdict(list)
    by_subject: dict[str, list[int]] = defaultdict(list)
    for index, envelope in enumerate(envelopes):
        by_subject[envelope.subject].append(index)
    victims: list[Doc] = []
    for index, envelope in enumerate(envelopes):
        d, at = envelope.data, envelope.occurred_at.isoformat()
        later = [i for i in by_subject[envelope.subject] if i >= index]
        if envelope.type == "case.opened":
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                details = {
                    **{k: d[k] for k in ("case_id", "arrival_channel", "exploitation_purposes")},
                    "crime_types": rng.sample(sorted(CRIME_TYPES), rng.randint(1, 2)),
                    "region_of_exploitation": rng.choice([None, *sorted(REGIONS)[:4]]),
                    "referring_institution_kind": d.get("referring_institution_kind"),
                    "updated_at": at,
                }
                after[rng.choice(later)].append(("case.details_updated", details))
        elif envelope.type == "victim.registered":
            victims.append(d)
            for _ in range(rng.choice((0, 0, 1, 2))):
                attributes = {
                    **{k: d[k] for k in ("case_id", "victim_id", "nationality")},
                    "sex": rng.choice(sorted(SEXES)),
                    "age_group": rng.choice(sorted(AGE_GROUPS)),
                    "region_of_origin": rng.choice([None, "16", "03"]),
                    "corrected_at": at,
                }
                after[rng.choice(later)].append(("victim.attributes_corrected", attributes))
    couples = zip(victims[::2], victims[1::2], strict=False)
    pairs = [(a, b) for a, b in couples if a["case_id"] != b["case_id"]]
    for a, b in rng.sample(pairs, min(len(pairs), 6)):
        outcome = rng.choice(("same_person", "same_person", "different_people"))
        resolved = {
            "case_id": a["case_id"],
            "victim_id": a["victim_id"],
            "duplicate_id": f"dup-{a['victim_id']}",
            "other_case_id": b["case_id"],
            "other_victim_id": b["victim_id"],
            "outcome": outcome,
            "kept_victim_id": rng.choice((a, b))["victim_id"] if outcome == "same_person" else None,
            "resolved_at": envelopes[-1].occurred_at.isoformat(),
        }
        after[by_subject[a["case_id"]][-1]].append(("victim.duplicate_resolved", resolved))
    out: list[EventEnvelope] = []
    sequences: Counter[str] = Counter()
    for index, envelope in enumerate(envelopes):
        inserted = [
            envelope.model_copy(
                update={"id": uuid.uuid4(), "source": "intake", "type": kind, "data": data}
            )
            for kind, data in after[index]
        ]
        for item in [envelope, *inserted]:
            sequences[item.subject] += 1
            out.append(item.model_copy(update={"sequence": sequences[item.subject]}))
    return out


@pytest.fixture
def corrected() -> Callable[[random.Random, list[EventEnvelope]], list[EventEnvelope]]:
    """`with_corrections` as a fixture."""
    return with_corrections
