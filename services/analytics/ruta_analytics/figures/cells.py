"""Reading the aggregate documents: the counters of the cells a query's filters pick, summed.

A query reads one cell of one document per period and office it covers (`projection.cube`),
each by `_id`: one document for all time or a year or a month and all offices, one per year
for a range of years, times the offices of a scope. Nothing here scans facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ruta_analytics.figures.models import Filters
from ruta_analytics.projection.cube import (
    ALL,
    CUBE,
    DUE_LEVEL,
    TRAINING,
    cell_key,
    doc_id,
    period_of,
    safe,
)
from ruta_analytics.projection.reads import find_ids
from ruta_analytics.projection.storage import decode_cell, stored_id
from ruta_analytics.projection.store import Generation


class Counts(Counter[str]):
    """Counter path -> amount (test gains are not whole), grouped by the path's first part
    on first use: a figure read takes two dozen groups from one cell (`under`), and a cell
    holds thousands of counters at national scale."""

    _groups: dict[str, dict[str, float]] | None = None

    def group(self, prefix: str) -> dict[str, float]:
        """The non-zero counters below `prefix.` (one part, no dots) by the rest of the path."""
        if self._groups is None:
            groups: dict[str, dict[str, float]] = {}
            for path, n in self.items():
                head, dot, rest = path.partition(".")
                if dot and n:
                    groups.setdefault(head, {})[rest] = n
            self._groups = groups
        return self._groups.get(prefix, {})


def _offices(filters: Filters) -> list[str]:
    if filters.office is not None:
        return [safe(filters.office)]
    if filters.offices is not None:
        return [safe(office) for office in filters.offices]
    return [ALL]


# The stored cells a group of reads shares (the suppressed view reads every period's
# figures at once, and each of them the all-time documents): (id, cell) -> stored bytes.
Shared = dict[tuple[str, str], bytes]
# A document's cells as read: (cell, stored bytes) pairs (b"": absent or empty).
Stored = tuple[tuple[str, bytes], ...]


@lru_cache(maxsize=1_024)
def decoded(blob: bytes) -> Mapping[str, float]:
    """A stored cell's counters, decoded once per distinct stored value (read-only: every read
    of an unchanged cell shares it, so a read of unchanged documents decodes nothing)."""
    return MappingProxyType(decode_cell(blob))


async def _documents(
    generation: Generation,
    ids: Iterable[str],
    cells: tuple[str, ...],
    shared: Shared | None = None,
) -> tuple[Stored, ...]:
    """The cells `cells` of the (period, office, region) documents `ids` (absent: empty), in
    one query (`_id` list) for those not in `shared`."""
    ids = list(ids)
    known: Shared = shared if shared is not None else {}
    await _cells(generation, [(i, cell) for i in ids for cell in cells], known)
    return tuple(tuple((cell, known[(i, cell)]) for cell in cells) for i in ids)


async def _cells(generation: Generation, wanted: Iterable[tuple[str, str]], known: Shared) -> None:
    """Put the stored bytes of the (document, cell) pairs `wanted` that `known` lacks into it
    (absent: empty), in one query (`_id` list) that loads only those cells."""
    missing = sorted({pair for pair in wanted if pair not in known})
    if not missing:
        return
    projection = {f"c.{cell}": 1 for cell in sorted({cell for _, cell in missing})}
    stored = [stored_id(target, cell) for target, cell in missing]
    found = await find_ids(generation.collection(CUBE), stored, projection)
    by_id = {str(document["_id"]): document.get("c") or {} for document in found}
    for target, cell in missing:
        known[(target, cell)] = bytes(by_id.get(stored_id(target, cell), {}).get(cell) or b"")


def _cell_counts(documents: tuple[Stored, ...], cell: str, since: int | None = None) -> Counts:
    """The sum of one cell over documents; with `since` (a year range's first year), each
    year's `q` pairs from years inside the range are taken off (each thing counts once).
    Without `since`, the `q` pairs are left in (no figure reads them): the common read of
    one document is a copy."""
    out = Counts()
    for document in documents:
        for name, blob in document:
            if name != cell or not blob:
                continue
            if since is None:
                out.update(decoded(blob))
                continue
            for path, amount in decoded(blob).items():
                if not path.startswith("q."):
                    out[path] += amount  # type: ignore[assignment]
                else:
                    _, previous, counter = path.split(".", 2)
                    if int(previous) >= since:
                        out[counter] -= amount  # type: ignore[assignment]
    return out


async def years_known(generation: Generation, filters: Filters) -> list[int]:
    """The years any fact of the filters' offices, region and cell (or training's) counts in."""
    cells = (cell_of(filters), cell_of(filters, training=True))
    found = await read(generation, filters, cells, period=False)
    return sorted(
        {
            int(path.split(".", 1)[1])
            for cell in cells
            for path, n in found.counts(cell).items()
            if path.startswith("yr.") and n
        }
    )


@dataclass(frozen=True)
class Read:
    """The cells a query takes of the documents it covers, as stored (read once, several cells
    taken; equal reads are equal and hash alike: what a figure read's memo is keyed on)."""

    documents: tuple[Stored, ...]
    since: int | None = None  # a year range's first year (its `q` pairs are taken off)

    def counts(self, cell: str) -> Counts:
        """One cell's counters summed over the documents."""
        return _cell_counts(self.documents, cell, self.since)


def cell_of(filters: Filters, *, training: bool = False) -> str:
    """The cell the filters pick (`training`: training's, without crime type: it has none)."""
    crime = TRAINING if training else ALL if filters.crime_type is None else filters.crime_type
    return cell_key(crime, filters.project if filters.project is not None else ALL)


async def _ids(
    generation: Generation, filters: Filters, *, period: bool = True
) -> tuple[list[str], int | None]:
    """The documents of the filters' period (`period=False`: all time) and offices, and a year
    range's first year."""
    offices = _offices(filters)
    region = safe(filters.region) if filters.region is not None else ALL
    ranged = filters.year_from is not None or filters.year_to is not None
    if not period or (filters.year is None and not ranged):
        return [doc_id("a", ALL, office, region) for office in offices], None
    if filters.year is not None:
        level = "m" if filters.month is not None else "y"
        key = period_of(level, filters.year, filters.month or 1)
        return [doc_id(level, key, office, region) for office in offices], None
    low, high = filters.year_from, filters.year_to
    if low is None or high is None:
        known = await years_known(generation, filters)
        low = low if low is not None else (known[0] if known else 0)
        high = high if high is not None else (known[-1] if known else -1)
    years = range(low, high + 1)
    return [doc_id("y", str(y), office, region) for y in years for office in offices], low


async def read(
    generation: Generation, filters: Filters, cells: tuple[str, ...], *, period: bool = True
) -> Read:
    """The cells `cells` of the documents of the filters' period (`period=False`: all time)
    and offices."""
    ids, since = await _ids(generation, filters, period=period)
    return Read(await _documents(generation, ids, cells), since=since)


def _due_ids(filters: Filters, today: date) -> list[str]:
    region = safe(filters.region) if filters.region is not None else ALL
    month = today.isoformat()[:7]
    return [doc_id(DUE_LEVEL, month, office, region) for office in _offices(filters)]


async def read_all(
    generation: Generation, filters: Filters, today: date, *, shared: Shared | None = None
) -> tuple[Read, Read, Read]:
    """The period's documents (the filters' cell and its training cell), all time's and today's
    due month's (the filters' cell: training has neither per-year rows nor due days) of one
    figure read, in one query (`shared`: cells already read by the same group of reads)."""
    known: Shared = shared if shared is not None else {}
    cell = cell_of(filters)
    cells = (cell, cell_of(filters, training=True))
    ids, since = await _ids(generation, filters)
    whole = (await _ids(generation, filters, period=False))[0] if has_period(filters) else []
    due = _due_ids(filters, today)
    wanted = [(i, c) for i in ids for c in cells] + [(i, cell) for i in (*whole, *due)]
    await _cells(generation, wanted, known)
    found = Read(await _documents(generation, ids, cells, known), since=since)
    whole_time = Read(await _documents(generation, whole, (cell,), known)) if whole else found
    return found, whole_time, Read(await _documents(generation, due, (cell,), known))


async def projects_in(generation: Generation, filters: Filters) -> list[str]:
    """The codes of the projects with facts in the filters' offices: every fact of a project
    counts in the all-time cell (`*` crime type, or training's slot, and that project) of its
    office and of `*`, so those documents name them as cells (two small documents an office)."""
    ids = [
        stored_id(doc_id("a", ALL, office, ALL), cell_key(crime, ALL))
        for office in _offices(filters)
        for crime in (ALL, TRAINING)
    ]
    codes: set[str] = set()
    for document in await find_ids(generation.collection(CUBE), ids):
        for cell, blob in (document.get("c") or {}).items():
            crime, _, code = cell.partition("|")
            if crime in (ALL, TRAINING) and code != ALL and blob:
                codes.add(code)
    return sorted(codes)


def has_period(filters: Filters) -> bool:
    """Whether the filters restrict the period (otherwise all time is the period)."""
    return any(v is not None for v in (filters.year, filters.year_from, filters.year_to))


def under(counts: Counts, prefix: str) -> dict[str, int]:
    """The counters below `prefix.` by the rest of their path (`r.ngo.ok` -> `ngo.ok`)."""
    if isinstance(counts, Counts) and "." not in prefix:
        return {rest: _number(n) for rest, n in counts.group(prefix).items()}
    start = f"{prefix}."
    return {
        path[len(start) :]: _number(n) for path, n in counts.items() if path.startswith(start) and n
    }


def _number(n: float) -> Any:
    return int(n) if float(n).is_integer() else n


def pairs(counts: Counts, prefix: str) -> dict[tuple[str, str], int]:
    """Two-level counters below `prefix.` by (first key, second key)."""
    out: dict[tuple[str, str], int] = {}
    for path, n in under(counts, prefix).items():
        first, _, second = path.partition(".")
        out[(first, second)] = n
    return out
