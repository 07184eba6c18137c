"""The aggregates on the real FerretDB: equal to the facts' figures for every filter, equal to
a rebuild, and exactly once across crashes in the middle of a batch's write."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import bson
import pytest
from bson import Binary
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection import journal
from ruta_analytics.projection.cube import CUBE, PRESENCE
from ruta_analytics.projection.effects import everything
from ruta_analytics.projection.handlers import apply_event
from ruta_analytics.projection.journal import Worker
from ruta_analytics.projection.models import FactBatch
from ruta_analytics.projection.storage import decode_presence
from ruta_analytics.projection.store import Generation, project, recover
from ruta_analytics.testing.cube_state import stored_counters
from ruta_analytics.testing.fact_oracle import oracle_figures
from ruta_analytics.testing.route_stream import with_routes
from ruta_shared.events import EventEnvelope
from ruta_shared.lima import today_lima
from ruta_shared.testing.synthetic import StreamBuilder, chunked, random_stream

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
# Today: the aggregates keep due days before today as one (`cube.compact_due`).
TODAY = today_lima()
FILTERS: list[Doc] = [
    {},
    {"year": 2016},
    {"year": 2017, "month": 3},
    {"year_from": 2016, "year_to": 2017},
    {"year_from": 2017},
    {"year_to": 2016},
    {"office": "lima"},
    {"region": "01"},
    {"crime_type": "trafficking"},
    {"year": 2016, "office": "cusco", "region": "08", "crime_type": "csec"},
    {"year_from": 2015, "year_to": 2016, "crime_type": "forced_labour"},
    {"project": "DTZ-2016"},
    {"year": 2016, "project": "SERV-INTEG"},
    {"year_from": 2016, "office": "lima", "project": "DTZ-2016"},
]


async def live_state(generation: Generation) -> tuple[dict[str, Doc], dict[str, Doc]]:
    """Presence documents and the aggregates' non-zero counters, by id."""
    presence = {d["_id"]: decode_presence(d) async for d in generation.collection(PRESENCE).find()}
    cube = {}
    async for document in generation.collection(CUBE).find():
        flat = stored_counters(document)
        if flat:
            cube[document["_id"]] = flat
    return presence, cube


def rebuilt_state(events: list[EventEnvelope]) -> tuple[dict[str, Doc], dict[str, Doc]]:
    """What a rebuild writes for the same events (the in-memory projection, as
    `ruta-analytics-rebuild` computes it)."""
    cache = FactBatch(audit=False)
    for envelope in events:
        apply_event(cache, envelope)
    presence, cube = everything(cache)
    return presence, {i: stored_counters(d) for i, d in cube.items()}


async def test_aggregates_equal_the_facts_for_every_filter_and_a_rebuild(
    generation: Generation,
    corrected: Callable[[random.Random, list[EventEnvelope]], list[EventEnvelope]],
) -> None:
    rng = random.Random(31)
    stream = random_stream(rng, cases=120, years=(2015, 2016, 2017), sessions=12)
    events = corrected(rng, with_routes(rng, stream))
    for batch in chunked(events, 47):
        await project(generation, batch)
    for batch in chunked(events, 113):  # redelivered in other batches
        await project(generation, batch)
    await project(generation, rng.sample(events, 150))
    for chosen in FILTERS:
        got = await exact_figures(generation, Filters(**chosen), today=TODAY)
        expected = await oracle_figures(generation, Filters(**chosen), today=TODAY)
        assert got == expected, chosen
        if not chosen:  # the stream reaches every part of the route figures
            route = got["route_stages"]
            assert route["overdue_stages_now"]
            assert route["overdue_tasks_now"]
            assert all(stage["p90_days"] is not None for stage in route["stages"][:6])
    # A project's figures are a part of the whole, neither empty nor everything.
    whole_country = await exact_figures(generation, Filters(), today=TODAY)
    funded = await exact_figures(generation, Filters(project="DTZ-2016"), today=TODAY)
    assert 0 < funded["cases_opened"] < whole_country["cases_opened"]
    assert 0 < funded["victims"]["total"] < whole_country["victims"]["total"]
    # A scope of several offices (the suppressed view's): the case figures add up per office.
    scope = Filters(year=2016, offices=("lima", "cusco"))
    got = await exact_figures(generation, scope, today=TODAY, whole=True)
    expected = await oracle_figures(generation, scope, today=TODAY, whole=True)
    assert {k: v for k, v in got.items() if k != "training"} == {
        k: v for k, v in expected.items() if k != "training"
    }
    assert await live_state(generation) == rebuilt_state(events)


async def test_a_worker_killed_between_its_facts_and_its_counts_is_finished_once(
    generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    events = random_stream(rng, cases=30, years=(2016, 2017), sessions=3)
    head, tail = events[: len(events) // 2], events[len(events) // 2 :]
    await project(generation, head)
    real_increments = journal.apply_increments

    async def killed(*args: Any, **kwargs: Any) -> None:
        raise SystemExit  # the process dies after the journal and the facts, before the counts

    monkeypatch.setattr(journal, "apply_increments", killed)
    dead = Worker(lease_seconds=0.0)
    with pytest.raises(SystemExit):
        await project(generation, tail, worker=dead)
    monkeypatch.setattr(journal, "apply_increments", real_increments)
    # Another worker gets the partitions; the dead one's journal is finished first, then the
    # redelivered events change nothing more.
    await project(generation, tail, worker=Worker())
    assert await live_state(generation) == rebuilt_state(events)
    assert [d async for d in generation.collection(journal.JOURNAL).find()] == []


async def dies_at(
    monkeypatch: pytest.MonkeyPatch, step: str, generation: Generation, events: Any
) -> None:
    """Project `events` with a worker that dies when it reaches `journal.<step>` (its lease
    already run out), then put the step back."""
    real = getattr(journal, step)

    async def killed(*args: Any, **kwargs: Any) -> None:
        raise SystemExit

    monkeypatch.setattr(journal, step, killed)
    with pytest.raises(SystemExit):
        await project(generation, events, worker=Worker(lease_seconds=0.0))
    monkeypatch.setattr(journal, step, real)


async def test_a_journal_left_uncompressed_by_an_older_worker_is_replayed(
    generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    events = random_stream(rng, cases=30, years=(2016, 2017), sessions=3)
    real_pack = journal._pack
    # Journals were plain BSON under `ops` before they were compressed.
    monkeypatch.setattr(journal, "PACKED", "ops")
    monkeypatch.setattr(journal, "_pack", lambda ops: Binary(bson.encode({"ops": ops})))
    # Dies after the journal and the facts, before the counts.
    await dies_at(monkeypatch, "apply_increments", generation, events)
    left = [d async for d in generation.collection(journal.JOURNAL).find()]
    assert [("ops" in d, "zops" in d) for d in left] == [(True, False)]
    monkeypatch.setattr(journal, "PACKED", "zops")
    monkeypatch.setattr(journal, "_pack", real_pack)
    await project(generation, events, worker=Worker())
    assert await live_state(generation) == rebuilt_state(events)
    assert [d async for d in generation.collection(journal.JOURNAL).find()] == []


async def test_a_read_kept_for_a_state_gives_way_once_a_dead_workers_journal_is_replayed(
    generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(9)
    events = random_stream(rng, cases=30, years=(2016, 2017), sessions=3)
    # Dies after the journal and the facts, before the counts.
    await dies_at(monkeypatch, "apply_increments", generation, events)
    before = await exact_figures(generation, Filters(), today=TODAY)  # kept for this state
    assert before["cases_opened"] == 0  # the counts were never applied
    batches = await generation.progress()
    await recover(generation, Worker())  # another worker replays the dead one's journal
    assert await generation.progress() == batches + 1
    after = await exact_figures(generation, Filters(), today=TODAY)
    assert after["cases_opened"] == 30
    assert after == await oracle_figures(generation, Filters(), today=TODAY)


async def test_a_worker_killed_after_its_counts_is_not_counted_twice(
    generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(6)
    events = random_stream(rng, cases=30, years=(2016, 2017), sessions=3)
    await dies_at(monkeypatch, "_drop", generation, events)  # after every write, before the drop
    await project(generation, events, worker=Worker())  # replays the journal: no count twice
    assert await live_state(generation) == rebuilt_state(events)
    figures = await exact_figures(generation, Filters(), today=TODAY)
    assert figures == await oracle_figures(generation, Filters(), today=TODAY)


async def test_a_merged_participant_counts_once_even_when_redelivered(
    generation: Generation,
) -> None:
    rng = random.Random(8)
    events = random_stream(rng, cases=2, years=(2017,), sessions=15)
    attended = [e for e in events if e.type == "training.attendance_recorded"]
    counts: dict[str, int] = {}
    for e in attended:
        counts[e.data["participant_id"]] = counts.get(e.data["participant_id"], 0) + 1
    merged, kept = sorted(counts, key=lambda p: -counts[p])[:2]
    builder = StreamBuilder()
    sessions = {e.subject: e for e in events if e.type == "training.session_scheduled"}
    moves = []
    for e in attended:
        if e.data["participant_id"] == merged:
            # Training numbers the move after the session's earlier events.
            last = max(x.sequence for x in events if x.subject == e.subject)
            move = builder.emit(
                "training.attendance_moved",
                "training",
                e.subject,
                {
                    "session_id": e.subject,
                    "from_participant_id": merged,
                    "to_participant_id": kept,
                    "hours_attended": 4.0,
                },
                at=sessions[e.subject].occurred_at,
            )
            moves.append(move.model_copy(update={"sequence": last + 1}))
    before = (await _reach(generation, events))["participants"]
    await project(generation, moves)
    await project(generation, [*moves, *rng.sample(attended, 10)])  # redelivered
    after = await exact_figures(generation, Filters(), today=TODAY)
    counted = {
        e.data["participant_id"]
        for e in attended
        if not any(
            x.type == "training.session_cancelled" and x.subject == e.subject for x in events
        )
    }
    assert before == len(counted)
    assert after["training"]["participants"] == len(counted - {merged} | {kept})
    assert sum(after["training"]["by_sex"]["values"]) == after["training"]["people_reached"]


async def _reach(generation: Generation, events: list[EventEnvelope]) -> Doc:
    for batch in chunked(events, 60):
        await project(generation, batch)
    return (await exact_figures(generation, Filters(), today=TODAY))["training"]
