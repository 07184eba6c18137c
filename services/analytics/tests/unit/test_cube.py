"""The aggregate documents' arithmetic (pure): roll-ups, distinct counts over year ranges,
moves between cells, medians from histograms."""

from __future__ import annotations

import math
import pickle
import random
from collections import Counter
from datetime import date, timedelta

from ruta_analytics.figures.cells import Counts, Read, decoded
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.route import overdue_now
from ruta_analytics.figures.rules import median_of_histogram, percentile_of_histogram
from ruta_analytics.figures.service import _figures
from ruta_analytics.projection.cube import (
    ALL,
    CARE,
    REFERRALS,
    Delta,
    apply_occurrences,
    compact_due,
    fact_delta,
    occurrences,
    presence_counters,
)
from ruta_analytics.projection.storage import encode_cell


def care(care_id: str, victim: str, year: int, office: str = "lima") -> dict[str, object]:
    return {
        "_id": care_id,
        "victim_id": victim,
        "office": office,
        "year": year,
        "month": 1 + int(care_id.rsplit("-", 1)[1]) % 12,
        "day": f"{year}-01-01",
        "care_type": "legal",
        "region_of_exploitation": "15",
        "crime_types": ["trafficking", "csec"],
    }


def distinct_in_range(counts: Delta, office: str, low: int, high: int) -> int:
    """What a read of years low..high computes: the years' counts minus the pairs inside."""
    total = 0
    for year in range(low, high + 1):
        prefix = f"y:{year}:{office}:{ALL}"
        total += int(counts.get((prefix, f"c.{ALL}|{ALL}.dc"), 0))
        for previous in range(low, year):
            total -= int(counts.get((prefix, f"c.{ALL}|{ALL}.q.{previous}.dc"), 0))
    return total


def test_distinct_victims_over_any_year_range_equal_a_plain_count() -> None:
    rng = random.Random(3)
    facts = []
    for number in range(300):
        victim = f"vic-{rng.randrange(40)}"
        facts.append(care(f"care-{number}", victim, rng.choice([2015, 2016, 2018, 2019])))
    presence: dict[str, dict[str, object] | None] = {}
    apply_occurrences(presence, [], [o for f in facts for o in occurrences(CARE, f)])
    counts: Delta = Counter()
    for document in presence.values():
        assert document is not None
        counts.update(presence_counters(document))
    for low in range(2014, 2021):
        for high in range(low, 2021):
            expected = {f["victim_id"] for f in facts if low <= f["year"] <= high}  # type: ignore[operator]
            assert distinct_in_range(counts, ALL, low, high) == len(expected), (low, high)


def test_a_fact_counts_in_its_cell_and_every_roll_up_and_a_move_leaves_nothing_behind() -> None:
    before = care("care-1", "vic-1", 2016)
    after = {**before, "region_of_exploitation": "16", "crime_types": ["forced_labour"]}
    added = fact_delta(CARE, None, before)
    cells = {
        (tuple(target.split(":")[2:]), path.split(".")[1])
        for (target, path), n in added.items()
        if n
    }
    assert (("lima", "15"), "trafficking|*") in cells
    assert (("*", "*"), "*|*") in cells
    assert (("lima", "*"), "csec|*") in cells
    # 3 periods x 2 offices x 2 regions x 3 crime cells, each with the care counter and,
    # in all-time documents, the year marker.
    assert sum(1 for (_, path), n in added.items() if n and ".care." in path) == 36
    moved = fact_delta(CARE, before, after)
    total = Counter(added)
    total.update(moved)
    assert {k: v for k, v in total.items() if v} == {
        k: v for k, v in fact_delta(CARE, None, after).items() if v
    }


def test_median_of_a_histogram_is_the_median_of_its_values() -> None:
    rng = random.Random(9)
    for _ in range(200):
        values = [rng.randrange(0, 30) for _ in range(rng.randrange(1, 40))]
        histogram = Counter(values)
        ordered = sorted(values)
        middle = len(ordered) // 2
        expected = (
            float(ordered[middle])
            if len(ordered) % 2
            else (ordered[middle - 1] + ordered[middle]) / 2
        )
        assert median_of_histogram(dict(histogram)) == expected
    assert median_of_histogram({}) is None


def test_the_90th_percentile_of_a_histogram_is_the_nearest_rank_of_its_values() -> None:
    rng = random.Random(10)
    for _ in range(200):
        values = sorted(rng.randrange(0, 30) for _ in range(rng.randrange(1, 40)))
        expected = values[math.ceil(len(values) * 0.9) - 1]
        assert percentile_of_histogram(dict(Counter(values)), 90) == expected
        # nearest rank: at least 90% of the values are at most it, fewer are below it
        assert sum(v <= expected for v in values) >= 0.9 * len(values)
        assert sum(v < expected for v in values) < 0.9 * len(values)
    assert percentile_of_histogram({}, 90) is None
    assert percentile_of_histogram({4: 1}, 90) == 4


def test_due_months_before_todays_are_kept_as_one_and_sums_do_not_change() -> None:
    counters: dict[str, float] = {
        "rdue.2017-03": 2,
        "rdue.2019-12": 1,
        "rdue.0000-00": 4,
        "rdue.2020-01": 5,
        "rdue.2030-01": 3,
        "tdue.2016-01": -1,
        "r.police.pending": 6,
    }
    before = sum(n for k, n in counters.items() if k.startswith("rdue."))
    compact_due(counters, "2020-01-15")
    assert counters == {
        "rdue.0000-00": 7,
        "rdue.2020-01": 5,
        "rdue.2030-01": 3,
        "tdue.0000-00": -1,
        "r.police.pending": 6,
    }
    assert sum(n for k, n in counters.items() if k.startswith("rdue.")) == before


def test_overdue_now_is_exact_from_due_months_and_todays_due_days_whatever_day_it_is() -> None:
    rng = random.Random(5)
    start = date(2019, 11, 1)
    due = [start + timedelta(days=rng.randrange(0, 200)) for _ in range(300)]
    referrals = [
        {**care(f"care-{n}", f"vic-{n}", 2019), "outcome": "pending", "due_on": day.isoformat()}
        for n, day in enumerate(due)
    ]
    delta: Delta = Counter()
    for referral in referrals:
        fact_delta(REFERRALS, None, referral, into=delta)
    written_on = date(2019, 12, 20)  # compacted when last written; read on later days
    nested = nest(delta, written_on)
    for today in (written_on, date(2020, 1, 1), date(2020, 2, 17), date(2020, 6, 30)):
        all_time = Counts(_cell(nested, f"a:{ALL}:lima:15"))
        due_days = Counts(_cell(nested, f"d:{today.isoformat()[:7]}:lima:15"))
        expected = sum(1 for day in due if day < today)
        assert overdue_now(all_time, due_days, "r", today) == expected, today
    # The all-time document holds one counter per due month, not one per due day.
    assert len([k for k in _cell(nested, f"a:{ALL}:lima:15") if k.startswith("rdue.")]) <= 8


def nest(delta: Delta, today: date) -> dict[str, dict[str, float]]:
    """(document, cell) -> counters as the write path keeps them on `today`."""
    out: dict[str, dict[str, float]] = {}
    for (target, path), amount in delta.items():
        out.setdefault(target, {})[path] = amount
    for target, counters in out.items():
        if target.startswith("a:"):
            compact_due(counters, today.isoformat())
    return out


def _cell(nested: dict[str, dict[str, float]], target: str) -> dict[str, float]:
    prefix = f"c.{ALL}|{ALL}."
    return {k[len(prefix) :]: n for k, n in nested.get(target, {}).items() if k.startswith(prefix)}


def test_figures_are_computed_once_per_stored_content_and_each_caller_gets_its_own_copy() -> None:
    cell, today = "*|*", date(2026, 12, 1)

    def reads(cases: int) -> tuple[Read, Read, Read]:
        # One document whose cell holds `cases`; no due month stored.
        found = Read((((cell, encode_cell({"cases": cases, "v.female.minor": cases})),),))
        return found, found, Read((((cell, b""),),))

    def figures(cases: int) -> dict[str, object]:
        return pickle.loads(_figures(Filters(), today, False, reads(cases)))

    _figures.cache_clear()
    decoded.cache_clear()
    first = figures(3)
    assert first["cases_opened"] == 3
    first["cases_opened"] = 99  # a caller changing its copy changes nobody else's
    assert figures(3)["cases_opened"] == 3
    assert _figures.cache_info().hits == 1
    assert _figures.cache_info().misses == 1
    # Another stored content (a batch changed the cell) is computed anew, never the old one.
    assert figures(4)["cases_opened"] == 4
    assert _figures.cache_info().misses == 2
