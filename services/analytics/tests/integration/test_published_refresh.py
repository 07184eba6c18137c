"""The suppressed view after a batch, on the real FerretDB: the latest solution is served while
the new one is solved in the background, and nothing a stale mask did not see is released."""

from __future__ import annotations

import random

import pytest
from ruta_analytics.figures.publication import release
from ruta_analytics.figures.published import publish, solution
from ruta_analytics.figures.solved import SolvedStates
from ruta_analytics.projection.store import Generation, project
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
