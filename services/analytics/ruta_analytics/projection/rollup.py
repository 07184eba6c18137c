"""A rebuild's aggregates (pure): counts summed before they are spread to every roll-up.

The live path moves counts fact by fact (`cube.fact_delta`, `cube.presence_delta`). A rebuild
has every fact at once, so it sums what the facts of one place count, spreads each sum to its
month document, builds each year from its months and all time from its years; and it counts
the presences that occur in one place (office, region, crime types, project: nearly all of
them) by the periods they occur in, so that equal ones are spread once. The result is the
live projection's, document for document (`test_aggregates`, `test_worker`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from ruta_analytics.projection.cube import (
    ALL,
    Where,
    doc_id,
    due_target,
    period_of,
    placed,
    presence_counters,
    presence_paths,
    roll_ups,
)
from ruta_analytics.projection.models import SESSIONS, Document

# (aggregate document id, cell) -> counter path -> amount
Cells = defaultdict[tuple[str, str], Counter[str]]
# (office, region, crime types, project): a place without its period
Loc = tuple[str, str, tuple[str, ...], str | None]


def new_cells() -> Cells:
    """An empty accumulator of cells."""
    return defaultdict(Counter)


def spread_all(facts: Iterable[tuple[str, Document]], cells: Cells) -> None:
    """Add what every fact counts to `cells` (the same counts as one `fact_delta` per fact)."""
    by_place: dict[Where, Counter[str]] = defaultdict(Counter)
    counted: Counter[Where] = Counter()
    for collection, doc in facts:
        for place, counters in placed(collection, doc, collection == SESSIONS):
            kept = {path: n for path, n in counters if n}
            if kept:
                counted[place] += 1
                by_place[place].update(kept)
    months: dict[tuple[int, int, str, str, str], Counter[str]] = defaultdict(Counter)
    for place, summed in by_place.items():
        due = {path: summed.pop(path) for path in [p for p in summed if p.startswith("!")]}
        spots = roll_ups(place.office, place.region, place.crimes, place.project)
        for office, region, cell in spots:
            key = (place.year, place.month, office, region, cell)
            months[key].update(summed)
            months[key][f"@yr.{place.year}"] += counted[place]
            for path, amount in due.items():  # due days: in their due month's document
                cells[(due_target(path, office, region), cell)][path[1:]] += amount
    years: dict[tuple[int, str, str, str], Counter[str]] = defaultdict(Counter)
    for (year, month, office, region, cell), summed in months.items():
        _emit(cells, doc_id("m", period_of("m", year, month), office, region), cell, summed)
        years[(year, office, region, cell)].update(summed)
    whole: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for (year, office, region, cell), summed in years.items():
        _emit(cells, doc_id("y", str(year), office, region), cell, summed)
        whole[(office, region, cell)].update(summed)
    for (office, region, cell), summed in whole.items():
        _emit(cells, doc_id("a", ALL, office, region), cell, summed, all_time=True)


def _emit(
    cells: Cells, target: str, cell: str, counters: Counter[str], *, all_time: bool = False
) -> None:
    """Counters into `cells` (each document's cell is emitted once); `@` ones (all-time
    only) only in all-time documents, without their `@`."""
    if all_time:
        kept = {(p[1:] if p.startswith("@") else p): n for p, n in counters.items() if n}
    else:
        kept = {p: n for p, n in counters.items() if n and not p.startswith("@")}
    cells[(target, cell)] = Counter(kept)  # an empty Counter takes a mapping at C speed


def presences(facts: Iterable[tuple[str, str, Document]]) -> dict[str, Document]:
    """Presence documents from every (presence id, occurrence id, occurrence) of the facts."""
    found: dict[str, Document] = {}
    for presence_id, occurrence_id, occurrence in facts:
        found.setdefault(presence_id, {"_id": presence_id, "occ": {}})["occ"][occurrence_id] = (
            occurrence
        )
    return found


def count_presences(documents: Iterable[Document], cells: Cells) -> None:
    """Add every presence's counts to `cells` (the same as one `presence_delta` each)."""
    # (place, level, period) -> counter path -> presences counting there
    same: dict[tuple[Loc, str, str], Counter[str]] = defaultdict(Counter)
    for document in documents:
        items = sorted(document["occ"].items(), key=lambda kv: (kv[1]["k"], kv[0]))
        locs = {(o["o"], o["r"], tuple(o["c"]), o["p"]) for _, o in items}
        if len(locs) != 1:  # rare: occurrences in several places, counted one by one
            for (target, path), amount in presence_counters(document).items():
                _, cell, counter = path.split(".", 2)
                cells[(target, cell)][counter] += amount
            continue
        loc = locs.pop()
        name = str(document["_id"]).split(":", 1)[0]
        for path in presence_paths(name, items[0][1]["a"]):
            same[(loc, "a", ALL)][path] += 1
        months: dict[tuple[int, int], Document] = {}
        years: dict[int, Document] = {}
        for _, occ in items:
            months.setdefault((occ["y"], occ["m"]), occ)
            years.setdefault(occ["y"], occ)
        for (year, month), occ in months.items():
            counts = same[(loc, "m", period_of("m", year, month))]
            for path in presence_paths(name, occ["a"]):
                counts[path] += 1
        ordered = sorted(years)
        for index, year in enumerate(ordered):
            counts = same[(loc, "y", str(year))]
            pair = f"q.{ordered[index - 1]}." if index else None
            for path in presence_paths(name, years[year]["a"]):
                counts[path] += 1
                if pair is not None:
                    counts[pair + path] += 1
    for (loc, level, period), counts in same.items():
        for office, region, cell in roll_ups(*loc):
            cells[(doc_id(level, period, office, region), cell)].update(counts)
