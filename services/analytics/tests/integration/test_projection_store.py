"""The projection on the real FerretDB, without Kafka: recounts, duplicates, tampering, API."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from ruta_analytics.audit.rules import entry_hash, verify_trail
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.handlers import apply_event
from ruta_analytics.projection.models import AUDIT, AUDIT_HEADS, FACT_COLLECTIONS
from ruta_analytics.projection.store import (
    ChainConflictError,
    Generation,
    load_batch,
    project,
    write_batch,
)
from ruta_shared.security.principal import Role
from ruta_shared.testing.synthetic import StreamBuilder, chunked, random_stream, report_stream

pytestmark = pytest.mark.integration

Doc = dict[str, Any]


async def snapshot(generation: Generation) -> dict[str, list[Doc]]:
    """Every projection document, sorted by id."""
    out = {}
    for name in (*FACT_COLLECTIONS, AUDIT, AUDIT_HEADS):
        out[name] = [d async for d in generation.collection(name).find().sort("_id", 1)]
    return out


async def test_random_stream_matches_a_plain_recount_and_duplicates_change_nothing(
    generation: Generation, recount: Callable[..., Doc], reshape: Callable[[Doc], Doc]
) -> None:
    rng = random.Random(11)
    events = random_stream(rng, cases=120, years=(2016, 2017), sessions=6)
    for batch in chunked(events, 97):
        await project(generation, batch)
    first = await snapshot(generation)
    figures = await exact_figures(generation, Filters())
    assert reshape(figures) == recount(events)
    assert figures["victims"]["total"] == sum(figures["victims"]["row_totals"])
    assert figures["victims"]["total"] == sum(figures["victims"]["column_totals"])
    for year in (2016, 2017):
        by_year = await exact_figures(generation, Filters(year=year))
        expected = recount(events, year=year)
        got = reshape(by_year)
        for key in ("cases_opened", "sex_age", "care", "referrals", "returns", "milestones"):
            assert got[key] == expected[key], key

    # Redelivery: everything again, in other batch sizes, and some events a third time.
    for batch in chunked(events, 211):
        await project(generation, batch)
    await project(generation, rng.sample(events, 150))
    assert await snapshot(generation) == first


async def test_report_table_is_exact(generation: Generation) -> None:
    events = report_stream((2015, 2016, 2017))
    for batch in chunked(events, 500):
        await project(generation, batch)
    victims = (await exact_figures(generation, Filters()))["victims"]
    assert victims["cells"] == [[97, 189, 4], [10, 42, 0], [0, 0, 2]]
    assert victims["row_totals"] == [290, 52, 2]
    assert victims["column_totals"] == [107, 231, 6]
    assert victims["total"] == 344


async def test_facts_arriving_before_their_case_get_its_attributes(generation: Generation) -> None:
    builder = StreamBuilder()
    events = random_stream(random.Random(3), cases=15, years=(2017,), prefix=builder.prefix)
    referral_first = sorted(events, key=lambda e: e.source != "referrals")  # referrals first
    for batch in chunked(referral_first, 10):
        await project(generation, batch)
    in_order = await exact_figures(generation, Filters(crime_type="trafficking"))
    assert await generation.collection("pending_cases").count_documents({}) == 0
    unknown = await generation.collection("referrals").count_documents({"case_known": False})
    assert unknown == 0
    assert in_order["filters"] == {"crime_type": "trafficking"}


async def test_a_crash_before_pending_facts_got_their_case_is_repaired_by_redelivery(
    generation: Generation,
) -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=datetime(2017, 3, 1, 12, tzinfo=UTC))
    victim_id = builder.register_victim(case_id, at=datetime(2017, 3, 2, 12, tzinfo=UTC))
    opened, registered = builder.envelopes
    await project(generation, [registered])  # the victim arrives before its case
    victims = generation.collection("victims")
    assert (await victims.find_one({"_id": victim_id}) or {})["case_known"] is False
    pending = await generation.collection("pending_cases").find_one({"_id": case_id})
    assert pending is not None
    assert pending["facts"] == [{"collection": "victims", "id": victim_id}]

    # The worker dies after writing the case and before updating the victim's fact.
    batch = await load_batch(generation, [opened])
    apply_event(batch, opened)
    case = batch.get("cases", case_id)
    await generation.collection("cases").replace_one({"_id": case_id}, case, upsert=True)

    await project(generation, [opened])  # redelivered after the restart
    victim = await victims.find_one({"_id": victim_id})
    assert victim is not None
    assert victim["case_known"] is True
    assert victim["crime_types"] == case["crime_types"]
    assert await generation.collection("pending_cases").find_one({"_id": case_id}) is None


async def swap_positions(ledger: Any, one: Doc, other: Doc) -> None:
    """Reorder two entries as a tamperer would (through a free position: it is unique)."""
    await ledger.update_one({"_id": one["_id"]}, {"$set": {"position": -1}})
    await ledger.update_one({"_id": other["_id"]}, {"$set": {"position": one["position"]}})
    await ledger.update_one({"_id": one["_id"]}, {"$set": {"position": other["position"]}})


async def test_one_chain_per_case_whichever_service_published_its_events(
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
) -> None:
    _, client = api
    builder = StreamBuilder()
    at = datetime(2017, 3, 1, 12, tzinfo=UTC)
    case_id = builder.open_case(at=at)
    victim_id = builder.register_victim(case_id, at=at + timedelta(hours=1))
    referral_id = builder.new_id("ref")
    builder.emit(
        "referral.requested",
        "referrals",
        referral_id,
        {
            "case_id": case_id,
            "referral_id": referral_id,
            "victim_id": victim_id,
            "institution_id": "fistrap-lima",
            "institution_kind": "prosecutor",
            "office": "lima",
            "direction": "outgoing",
            "urgency": "normal",
            "due_on": "2017-03-20",
            "requested_at": (at + timedelta(hours=2)).isoformat(),
        },
        at=at + timedelta(hours=2),
    )
    builder.emit(
        "pii.accessed",
        "referrals",
        referral_id,
        {
            "access_id": builder.new_id("acc"),
            "subject_type": "victim",
            "subject_id": victim_id,
            "case_id": case_id,
            "purpose": "referral",
            "fields": ["names"],
            "accessed_at": (at + timedelta(hours=3)).isoformat(),
        },
        at=at + timedelta(hours=3),
    )
    opened, registered, requested, accessed = builder.envelopes
    # Another topic, so another order: the referral's events are appended first.
    await project(generation, [requested, accessed])
    await project(generation, [opened, registered])

    ledger = generation.collection(AUDIT)
    entries = [d async for d in ledger.find({"trail": case_id}).sort("position", 1)]
    assert [e["_id"] for e in entries] == [
        str(e.id) for e in (requested, accessed, opened, registered)
    ]
    assert {e["chain"] for e in entries} == {case_id}
    assert [e["position"] for e in entries] == [1, 2, 3, 4]
    assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    headers = {"Authorization": f"Bearer {token_for(Role.AUDITOR)}"}
    body = (await client.get(f"/audit/trails/{case_id}/verify", headers=headers)).json()
    assert (body["valid"], body["entries"], body["chains"]) == (True, 4, 1)
    timeline = (await client.get(f"/audit/trails/{case_id}", headers=headers)).json()
    assert [e["type"] for e in timeline["entries"]] == [
        "case.opened",
        "victim.registered",
        "referral.requested",
        "pii.accessed",
    ]

    # Swapping an intake entry with a referral entry breaks the chain at the first of them.
    await swap_positions(ledger, entries[1], entries[2])
    body = (await client.get(f"/audit/trails/{case_id}/verify", headers=headers)).json()
    assert body["valid"] is False
    broken = body["first_broken_link"]
    assert (broken["position"], broken["reason"]) == (2, "prev_hash_mismatch")


async def test_two_writers_cannot_both_append_at_one_place_in_a_chain(
    generation: Generation,
) -> None:
    builder = StreamBuilder()
    case_id = builder.open_case(at=datetime(2017, 3, 1, 12, tzinfo=UTC))
    builder.register_victim(case_id, at=datetime(2017, 3, 2, 12, tzinfo=UTC))
    builder.register_victim(case_id, at=datetime(2017, 3, 3, 12, tzinfo=UTC))
    builder.register_victim(case_id, at=datetime(2017, 3, 4, 12, tzinfo=UTC))
    opened, first, second, third = builder.envelopes
    await project(generation, [opened])
    # Two workers load the chain's head before either writes; one appends two entries.
    one = await load_batch(generation, [first])
    other = await load_batch(generation, [second, third])
    apply_event(one, first)
    apply_event(other, second)
    apply_event(other, third)
    await write_batch(generation, one)
    with pytest.raises(ChainConflictError):
        await write_batch(generation, other)

    await project(generation, [second, third])  # the consumer's retry: load and apply again
    await project(generation, [first])  # and a redelivery appends nothing
    ledger = generation.collection(AUDIT)
    entries = [d async for d in ledger.find({"trail": case_id}).sort("position", 1)]
    heads = [d async for d in generation.collection(AUDIT_HEADS).find({"trail": case_id})]
    assert [e["_id"] for e in entries] == [str(e.id) for e in (opened, first, second, third)]
    assert verify_trail(entries, heads) is None


async def tamper_setup(generation: Generation) -> tuple[str, list[Doc]]:
    builder = StreamBuilder()
    case_id = builder.open_case(at=datetime(2017, 3, 1, 12, tzinfo=UTC))
    at = datetime(2017, 3, 2, 12, tzinfo=UTC)
    for _ in range(4):
        builder.register_victim(case_id, at=at)
    await project(generation, builder.envelopes)
    entries = [
        d async for d in generation.collection(AUDIT).find({"trail": case_id}).sort("position", 1)
    ]
    return case_id, entries


@pytest.mark.parametrize(
    "tamper", ["edit", "remove_middle", "remove_last", "reorder", "rehash_one"]
)
async def test_verify_reports_the_first_broken_link(
    tamper: str,
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
) -> None:
    _, client = api
    case_id, entries = await tamper_setup(generation)
    headers = {"Authorization": f"Bearer {token_for(Role.AUDITOR)}"}
    ok = (await client.get(f"/audit/trails/{case_id}/verify", headers=headers)).json()
    assert ok["valid"] is True
    assert ok["entries"] == 5
    audit = generation.collection(AUDIT)
    if tamper == "edit":
        await audit.update_one({"_id": entries[2]["_id"]}, {"$set": {"event.data.sex": "male"}})
        expected = (3, "hash_mismatch")
    elif tamper == "remove_middle":
        await audit.delete_one({"_id": entries[1]["_id"]})
        expected = (2, "missing_entry")
    elif tamper == "remove_last":
        await audit.delete_one({"_id": entries[4]["_id"]})
        expected = (5, "head_mismatch")
    elif tamper == "reorder":
        await swap_positions(audit, entries[1], entries[2])
        expected = (2, "prev_hash_mismatch")
    else:  # edit an entry and recompute its own hash: the next link breaks
        event = {**entries[1]["event"], "actor": {"id": "someone-else", "role": "case_worker"}}
        forged = entry_hash(
            chain=entries[1]["chain"], position=2, prev_hash=entries[1]["prev_hash"], event=event
        )
        await audit.update_one(
            {"_id": entries[1]["_id"]}, {"$set": {"event": event, "hash": forged}}
        )
        expected = (3, "prev_hash_mismatch")
    body = (await client.get(f"/audit/trails/{case_id}/verify", headers=headers)).json()
    assert body["valid"] is False
    broken = body["first_broken_link"]
    assert (broken["position"], broken["reason"]) == expected
    metrics = (await client.get("/metrics")).text
    assert "ruta_audit_verification_failures_total 1.0" in metrics


async def test_api_views_reports_and_timeline(
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
) -> None:
    _, client = api
    events = report_stream((2015, 2016, 2017)) + random_stream(
        random.Random(5), cases=60, years=(2017,), sessions=5
    )
    for batch in chunked(events, 300):
        await project(generation, batch)
    coordinator = {"Authorization": f"Bearer {token_for(Role.COORDINATOR)}"}
    auditor = {"Authorization": f"Bearer {token_for(Role.AUDITOR)}"}
    exact = (await client.get("/figures/exact", headers=coordinator)).json()
    assert (await client.get("/figures/exact", headers=auditor)).status_code == 403
    assert (await client.get("/figures")).status_code == 401
    hidden = (await client.get("/figures", headers=auditor)).json()
    assert hidden["suppressed"] is True
    assert hidden["k"] == 5
    # Exact cells below 5 never show in the suppressed view; big ones do.
    for row_exact, row_hidden in zip(
        exact["victims"]["cells"], hidden["victims"]["cells"], strict=True
    ):
        for value, shown in zip(row_exact, row_hidden, strict=True):
            if 0 < value < 5:
                assert shown is None
            if shown is not None:
                assert shown == value
    assert hidden["victims"]["total"] == exact["victims"]["total"]
    bad = await client.get("/figures/exact?month=3", headers=coordinator)
    assert bad.status_code == 422

    csv_response = await client.get("/reports/2017/tables.csv", headers=auditor)
    assert csv_response.status_code == 200
    text = csv_response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0].startswith("Víctimas atendidas por sexo y grupo de edad, 2017")
    assert any("s" in row for row in rows)  # some cells are hidden in the export
    xlsx = await client.get("/reports/2017/tables.xlsx", headers=auditor)
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["Tabla 1", "Tabla 2", "Tabla 3", "Tabla 4"]
    assert workbook["Tabla 1"]["A1"].value.startswith("Víctimas atendidas")
    png = await client.get("/reports/2017/charts/victims_by_sex_and_age.png", headers=auditor)
    assert png.content.startswith(b"\x89PNG")
    svg = await client.get("/reports/2017/charts/training_by_audience.svg", headers=auditor)
    assert b"<svg" in svg.content

    with_referral = next(e for e in events if e.type == "referral.accepted")
    case_id = with_referral.data["case_id"]
    trail = (await client.get(f"/audit/trails/{case_id}", headers=auditor)).json()
    names = [s["stage"] for s in trail["stages"]]
    assert names[0] == "intake"
    assert "acceptance" in names
    assert all(s["days_in_stage"] is None or s["days_in_stage"] >= 0 for s in trail["stages"])
    assert trail["entries"][0]["type"] == "case.opened"
    verified = (await client.get(f"/audit/trails/{case_id}/verify", headers=auditor)).json()
    assert verified["valid"] is True
    with_access = next(e for e in events if e.type == "pii.accessed")
    log = await client.get(
        f"/audit/trails/{with_access.data['case_id']}/access-log", headers=auditor
    )
    assert [e["type"] for e in log.json()["entries"]].count("pii.accessed") >= 1
    assert (await client.get("/audit/trails/nothing-here", headers=auditor)).status_code == 404
