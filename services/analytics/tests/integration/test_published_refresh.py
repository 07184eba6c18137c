"""The suppressed view after a batch, on the real FerretDB: the latest solution is served while
the new one is solved in the background, and nothing a stale mask did not see is released."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from ruta_analytics.figures import published
from ruta_analytics.figures.publication import release
from ruta_analytics.figures.published import publish, solution
from ruta_analytics.figures.solved import (
    Solution,
    SolvedStates,
    decode,
    encode,
    release_lease,
    scope_id,
    stored_state,
    take_lease,
)
from ruta_analytics.projection.store import Generation, project
from ruta_analytics.testing.route_stream import with_routes
from ruta_shared.lima import today_lima
from ruta_shared.testing.synthetic import chunked, random_stream

pytestmark = pytest.mark.integration

K = 5


async def test_after_a_batch_readers_get_the_latest_solution_until_the_new_one_is_solved(
    generation: Generation,
) -> None:
    rng = random.Random(11)
    first = random_stream(rng, cases=40, years=(2016, 2017), sessions=2, prefix="first")
    for batch in chunked(first, 300):
        await project(generation, batch)
    cache = SolvedStates()
    before = await publish(generation, cache=cache, k=K, year=None, offices=None)
    assert len(cache) == 1  # the first read of a scope solves
    assert not cache.refreshing

    more = random_stream(rng, cases=30, years=(2016, 2017), sessions=0, prefix="more")
    await project(generation, more)
    stale = await publish(generation, cache=cache, k=K, year=None, offices=None)
    # The earlier state's figures and mask (consistent), not a mix, and a solve under way.
    assert stale == before
    (running,) = cache.refreshing.values()
    await running
    assert len(cache) == 2
    fresh = await publish(generation, cache=cache, k=K, year=None, offices=None)
    assert fresh["cases_opened"] != before["cases_opened"]
    now = await solution(generation, None, K)
    assert fresh == {
        **release(now.by_period[(None, "all")], (None, "all"), now.hidden, K),
        "per_year": fresh["per_year"],
        "filters": {},
    }


async def test_a_year_the_latest_solution_did_not_have_is_solved_before_it_is_released(
    generation: Generation,
) -> None:
    rng = random.Random(12)
    for batch in chunked(random_stream(rng, cases=40, years=(2016,), sessions=0), 300):
        await project(generation, batch)
    cache = SolvedStates()
    await publish(generation, cache=cache, k=K, year=None, offices=None)
    await project(generation, random_stream(rng, cases=3, years=(2019,), sessions=0))
    # 2019 has a few cases now: a mask solved without them must not release them.
    out = await publish(generation, cache=cache, k=K, year=2019, offices=None)
    assert len(cache) == 2  # solved for the state that has 2019, before answering
    now = await solution(generation, None, K)
    assert (None, 2019) in now.by_period
    expected = release(now.by_period[(None, 2019)], (None, 2019), now.hidden, K)
    assert out["cases_opened"] == expected["cases_opened"]
    assert out["victims"] == expected["victims"]
    assert out["cases_opened"] is None  # three cases: below k, hidden


def _counting_solves(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the solves `figures.published` starts (the real solver still runs)."""
    calls: list[int] = []
    real = published.solution

    async def counted(*args: Any, **kwargs: Any) -> Solution:
        calls.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(published, "solution", counted)
    return calls


async def test_a_stored_solution_reads_back_equal_and_a_new_process_serves_it_without_solving(
    generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(13)
    stream = with_routes(rng, random_stream(rng, cases=60, years=(2016, 2017), sessions=3))
    for batch in chunked(stream, 300):
        await project(generation, batch)
    now = await solution(generation, None, K)
    assert len(now.by_period) > 3  # projects and years
    assert now.hidden
    assert decode(encode(now)) == now

    first = await publish(generation, cache=SolvedStates(), k=K, year=2017, offices=None)
    solves = _counting_solves(monkeypatch)
    # Another replica, or this one restarted: the stored solution, no solve.
    again = SolvedStates()
    assert await publish(generation, cache=again, k=K, year=2017, offices=None) == first
    assert solves == []
    assert not again.refreshing


async def test_after_a_batch_one_process_solves_under_the_lease_and_the_others_take_its_solution(
    generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(14)
    for batch in chunked(random_stream(rng, cases=40, years=(2016,), sessions=0), 300):
        await project(generation, batch)
    offices = ("lima",)
    before = await publish(generation, cache=SolvedStates(), k=K, year=None, offices=offices)
    await project(generation, random_stream(rng, cases=30, years=(2016,), sessions=0, prefix="b"))
    solves = _counting_solves(monkeypatch)
    scope = scope_id(offices, K)

    # Another process holds the lease: this one serves the stored (earlier) state, no solve.
    assert await take_lease(generation, scope)
    waiting = SolvedStates()
    assert await publish(generation, cache=waiting, k=K, year=None, offices=offices) == before
    await asyncio.gather(*waiting.refreshing.values())
    assert solves == []
    assert not await take_lease(generation, scope)  # still held

    # The lease released: the next read's refresh solves the new state and stores it.
    await release_lease(generation, scope)
    assert await publish(generation, cache=waiting, k=K, year=None, offices=offices) == before
    await asyncio.gather(*waiting.refreshing.values())
    assert solves == [1]
    fresh = await publish(generation, cache=waiting, k=K, year=None, offices=offices)
    assert fresh["cases_opened"] != before["cases_opened"]
    # A third process finds that state stored: it serves it as current, without solving.
    third = SolvedStates()
    assert await publish(generation, cache=third, k=K, year=None, offices=offices) == fresh
    assert solves == [1]
    assert not third.refreshing
    stored = await stored_state(generation, scope)
    assert stored is not None
    assert stored[0] == (await generation.progress(), today_lima().isoformat())
