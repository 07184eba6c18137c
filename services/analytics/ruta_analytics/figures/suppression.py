"""Small-cell suppression (pure logic): primary suppression of counts below k, then
complementary suppression so that no hidden cell can be worked out from the totals.

A table with its margins is a grid whose every row and column obeys "the cells add up to the
total cell". A line with exactly one hidden cell gives that cell away, so while any line has
exactly one hidden cell another cell of that line is hidden too (the smallest non-zero one,
so as little as possible is lost). This protects against recomputation from row and column
totals. `solve` does the same over any set of linear relations (lines: parts, then their
total), and then checks all the relations together by exact elimination (modulo a large
prime): while a count below k is pinned down by them, another cell is hidden, one that the
combination of lines giving it away needs (one that leaves no other combination, if any
does: with thousands of relations, the cheapest cell of its lines is mostly one that other
lines give away in turn); while a line's hidden parts could only all be 1 once the values
the relations pin down are known, another cell of that line. Keys that are never released
(the facts of no project) are hidden from the start: pinning one down is allowed unless it
is below k.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

Grid = list[list[int]]
Mask = list[list[bool]]

SUPPRESSED_MARK: Final = "s"


def with_margins(cells: Sequence[Sequence[int]]) -> Grid:
    """The grid with a total column on the right and a total row at the bottom."""
    rows = [[*row, sum(row)] for row in cells]
    width = len(rows[0]) if rows else 1
    rows.append([sum(row[j] for row in rows) for j in range(width)])
    return rows


def suppress_grid(grid: Grid, k: int) -> Mask:
    """Which cells of a grid with margins (last row and column are totals) to hide."""
    height, width = len(grid), len(grid[0])
    hidden = [[0 < grid[i][j] < k for j in range(width)] for i in range(height)]
    lines = [[(i, j) for j in range(width)] for i in range(height)]
    lines += [[(i, j) for i in range(height)] for j in range(width)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if len(line) < 2:
                continue
            count = sum(hidden[i][j] for i, j in line)
            if count != 1:
                continue
            candidates = [(i, j) for i, j in line if not hidden[i][j]]
            if not candidates:
                continue
            i, j = min(candidates, key=lambda c: _cost(grid, c, height, width))
            hidden[i][j] = True
            changed = True
    return hidden


def _cost(grid: Grid, cell: tuple[int, int], height: int, width: int) -> tuple[int, int, int]:
    i, j = cell
    value = grid[i][j]
    is_margin = i == height - 1 or j == width - 1
    # Prefer inner, non-zero, small cells: hiding a margin spreads suppression further.
    return (int(is_margin), int(value == 0), value)


def suppress_vector(values: Sequence[int], k: int) -> tuple[list[bool], bool]:
    """Hide entries of a one-way table and its total; returns (entry mask, total hidden)."""
    if not values:
        return [], False
    grid = [[*values, sum(values)]]
    # One line: entries add up to the total; the single row is its own column total.
    mask = suppress_grid([grid[0], grid[0]], k)
    return mask[0][:-1], mask[0][-1]


def suppress_count(value: int, k: int) -> bool:
    """Whether a single published count must be hidden."""
    return 0 < value < k


PRIME: Final = (1 << 61) - 1  # elimination modulo a Mersenne prime: exact integers, no floats


def solve(
    values: Mapping[Any, int],
    lines: Sequence[Sequence[Any]],
    k: int,
    unreleased: Collection[Any] = (),
) -> set[Any]:
    """The keys to hide: primary (0 < n < k), then complementary until no line gives a
    hidden cell away (exactly one hidden, or hidden parts summing to their number, each
    then 1) and no count below k is determined by all the lines together, nor left to be 1
    by a line once the determined values are known.

    `unreleased`: keys never shown (hidden from the start, never a complement), such as the
    facts of no project, known only through the relations. One of them that is 0 or at
    least k may be determined, as such a count may be shown; one below k may not."""
    secret = set(unreleased)
    hidden: set[Any] = {key for key, value in values.items() if 0 < value < k} | secret
    by_key: dict[Any, list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        for key in line:
            by_key[key].append(index)

    def cost(index: int, key: Any) -> tuple[bool, bool, int, str]:
        # Prefer inner, non-zero, small cells: hiding a total spreads suppression further.
        return (key == lines[index][-1], values[key] == 0, values[key], repr(key))

    def close(todo: set[int]) -> None:
        while todo:
            index = todo.pop()
            line = lines[index]
            inside = [key for key in line if key in hidden]
            if not inside:
                continue
            parts = [key for key in inside if key != line[-1]]
            alone = len(inside) == 1 and (inside[0] not in secret or 0 < values[inside[0]] < k)
            exposed = alone or (
                line[-1] not in hidden
                and all(values[key] >= 1 for key in parts)
                and sum(values[key] for key in parts) == len(parts)
            )
            candidates = [key for key in line if key not in hidden]
            if exposed and candidates:
                chosen = min(candidates, key=lambda key: cost(index, key))
                hidden.add(chosen)
                todo.update(by_key[chosen])

    close(set(range(len(lines))))
    while True:
        known = pinned(lines, hidden)
        # One complement per leak, unless one of its lines already got one this round (each
        # round redoes the elimination, the costly part).
        touched: set[int] = set()
        for leaked, indexes in _leaks(values, lines, hidden, known, k):
            if touched.intersection(indexes):
                continue
            # A determined count: a shown key that the lines giving it away need (hiding a
            # key they do not need, or one the others then give away, would not help).
            options = _breaking(lines, hidden, leaked, by_key) if leaked is not None else []
            options = options or _options(lines, indexes, hidden, known, by_key)
            if options:
                chosen = min(options, key=lambda option: cost(*option))[1]
                hidden.add(chosen)
                touched.update(by_key[chosen])
        if not touched:
            return hidden
        close(touched)


def _leaks(
    values: Mapping[Any, int],
    lines: Sequence[Sequence[Any]],
    hidden: set[Any],
    known: set[Any],
    k: int,
) -> list[tuple[Any, list[int]]]:
    """What the lines still give away, with the lines to hide a complement in: a count below
    k they determine (it, and its lines), and hidden parts of a line whose total is known
    that, the determined values taken off, could only all be 1 (None, and that line)."""
    around: dict[Any, list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        for key in line:
            if key in known:
                around[key].append(index)
    small = sorted((key for key in known if 0 < values[key] < k), key=repr)
    found: list[tuple[Any, list[int]]] = [(key, around[key]) for key in small]
    for index, line in enumerate(lines):
        if k < 2 or (line[-1] in hidden and line[-1] not in known):
            continue
        parts = [key for key in line[:-1] if key in hidden and key not in known]
        if (
            parts
            and all(values[key] >= 1 for key in parts)
            and sum(values[key] for key in parts) == len(parts)
        ):
            found.append((None, [index]))
    return found


def _breaking(
    lines: Sequence[Sequence[Any]], hidden: set[Any], key: Any, by_key: Mapping[Any, list[int]]
) -> list[tuple[int, Any]]:
    """(line, key) of the shown keys whose hiding breaks the combination of lines that gives
    `key` away (their weight in it is not 0, so hidden they would not cancel); only those
    that leave no other combination, if there are any.

    Hiding a key c adds its column to the lines' rows: `key` stays determined when some
    combination y of lines, y·A = `key` alone, also has y·c = 0. Such combinations are the
    witness plus the combinations of lines that cancel (z·A = 0), so when c is 0 in every
    one of those (all of c's lines connected to `key`), hiding c un-determines `key` at
    once; otherwise it only removes one such combination, and many may be left."""
    connected, witness, cancelling = _witness(lines, hidden, key, by_key)
    weight: dict[Any, int] = defaultdict(int)
    where: dict[Any, int] = {}
    for index, factor in witness.items():
        line = lines[index]
        for position, other in enumerate(line):
            if other not in hidden:
                weight[other] += -factor if position == len(line) - 1 else factor
                where.setdefault(other, index)
    breaking = [(where[other], other) for other, w in weight.items() if w % PRIME]

    def alone(other: Any) -> bool:
        column = {i: -1 if lines[i][-1] == other else 1 for i in by_key[other]}
        return set(column) <= connected and not any(
            sum(z.get(i, 0) * c for i, c in column.items()) % PRIME for z in cancelling
        )

    return [option for option in breaking if alone(option[1])] or breaking


def _witness(
    lines: Sequence[Sequence[Any]], hidden: set[Any], key: Any, by_key: Mapping[Any, list[int]]
) -> tuple[set[int], dict[int, int], list[dict[int, int]]]:
    """The lines connected to `key` through hidden keys (only they can take part), factors
    of them whose rows (on the hidden keys) add up to `key` alone ({} if none do), and a
    basis of their combinations that cancel."""
    indexes: set[int] = set()
    reached, todo = {key}, [key]
    while todo:
        for index in by_key.get(todo.pop(), []):
            if index not in indexes:
                indexes.add(index)
                fresh = {other for other in lines[index] if other in hidden} - reached
                reached |= fresh
                todo.extend(fresh)
    rows = {index: _row(lines[index], hidden) for index in sorted(indexes)}
    echelon = _echelon(rows, track=True)
    rest, steps = _reduce({key: 1}, echelon.pivots, echelon.order)
    witness: dict[int, int] = {}
    for lead, factor in [] if rest else steps:
        witness = _axpy(witness, echelon.combinations[lead], factor)
    return indexes, witness, echelon.cancelling


def _options(
    lines: Sequence[Sequence[Any]],
    indexes: list[int],
    hidden: set[Any],
    known: set[Any],
    by_key: Mapping[Any, list[int]],
) -> list[tuple[int, Any]]:
    """(line, key) of the shown keys of these lines; if they have none, of the lines of the
    determined keys in them, and so on (hiding there makes those undetermined)."""
    seen: set[Any] = set()
    while indexes:
        options = [(i, key) for i in indexes for key in lines[i] if key not in hidden]
        if options:
            return options
        further = {key for i in indexes for key in lines[i] if key in known} - seen
        seen |= further
        indexes = sorted({i for key in further for i in by_key[key]})
    return []


def pinned(lines: Sequence[Sequence[Any]], hidden: set[Any]) -> set[Any]:
    """Hidden keys whose value the lines determine, the shown values being known.

    Each line restricted to its hidden keys is a row (parts +1, total -1); a key is
    determined when its unit vector is in the rows' span, that is when it is 0 in every
    vector of their null space. The rows are brought to echelon form (`_echelon`), and two
    null-space vectors are drawn at random (free keys at random, pivots by
    back-substitution): a key is determined when it is 0 in both. An undetermined key is 0 in
    a random vector with probability 1/PRIME, so the error, if any, is to hide more.
    """
    rows = {index: row for index, line in enumerate(lines) if (row := _row(line, hidden))}
    pivots = _echelon(rows).pivots
    # Not a secret: a fixed draw, so the same problem always gets the same mask.
    draw = random.Random(0)  # noqa: S311
    free = sorted(hidden - pivots.keys(), key=repr)
    samples = [{key: draw.randrange(1, PRIME) for key in free} for _ in range(2)]
    for lead in reversed(pivots):  # a pivot's row holds free keys and later pivots only
        row = pivots[lead]
        for sample in samples:
            sample[lead] = -sum(v * sample[key] for key, v in row.items() if key != lead) % PRIME
    return {key for key in pivots if not any(sample[key] for sample in samples)}


@dataclass
class _Echelon:
    """Rows in echelon form: each pivot's row (lead 1, in the order found) and, when tracked,
    that row as factors of the rows given and a basis of their combinations that cancel."""

    pivots: dict[Any, dict[Any, int]] = field(default_factory=dict)
    order: dict[Any, int] = field(default_factory=dict)
    combinations: dict[Any, dict[int, int]] = field(default_factory=dict)
    cancelling: list[dict[int, int]] = field(default_factory=list)


def _echelon(rows: Mapping[int, dict[Any, int]], *, track: bool = False) -> _Echelon:
    """Each new row reduced by the pivots before it; its pivot is the key in the fewest rows
    (which keeps the rows short: thousands of relations sharing totals)."""
    degree = Counter(key for row in rows.values() for key in row)
    rank = {key: i for i, key in enumerate(sorted(degree, key=lambda k: (degree[k], repr(k))))}
    out = _Echelon()
    for index, raw in rows.items():
        reduced, steps = _reduce(raw, out.pivots, out.order)
        combination = {index: 1}
        for lead, factor in steps if track else []:
            combination = _axpy(combination, out.combinations[lead], -factor)
        if not reduced:
            if track:
                out.cancelling.append(combination)
            continue
        lead = min(reduced, key=rank.__getitem__)
        inverse = pow(reduced[lead], PRIME - 2, PRIME)
        out.pivots[lead] = {key: value * inverse % PRIME for key, value in reduced.items()}
        if track:
            out.combinations[lead] = {i: v * inverse % PRIME for i, v in combination.items()}
        out.order[lead] = len(out.order)
    return out


def _row(line: Sequence[Any], hidden: set[Any]) -> dict[Any, int]:
    """A line's relation on its hidden keys: parts +1, total -1 (modulo PRIME, no zeros)."""
    row: dict[Any, int] = defaultdict(int)
    for key in line[:-1]:
        if key in hidden:
            row[key] += 1
    if line[-1] in hidden:
        row[line[-1]] -= 1
    return {key: value % PRIME for key, value in row.items() if value % PRIME}


def _reduce(
    raw: Mapping[Any, int], pivots: Mapping[Any, dict[Any, int]], order: Mapping[Any, int]
) -> tuple[dict[Any, int], list[tuple[Any, int]]]:
    """The row less its pivots' rows, earliest pivot first (a pivot's row brings in only
    keys that were not pivots yet, so each is taken off once), and the (pivot, factor) taken."""
    row = dict(raw)
    steps = []
    queue = [(order[key], key) for key in row if key in order]
    heapq.heapify(queue)
    while queue:
        _, lead = heapq.heappop(queue)
        factor = row.get(lead)
        if not factor:
            continue
        steps.append((lead, factor))
        for key, value in pivots[lead].items():
            result = (row.get(key, 0) - factor * value) % PRIME
            if not result:
                row.pop(key, None)
                continue
            if key not in row and key in order:
                heapq.heappush(queue, (order[key], key))
            row[key] = result
    return row, steps


def _axpy(row: Mapping[Any, int], other: Mapping[Any, int], factor: int) -> dict[Any, int]:
    """row + factor * other, modulo PRIME, without zero entries."""
    out = dict(row)
    for key, value in other.items():
        result = (out.get(key, 0) + factor * value) % PRIME
        if result:
            out[key] = result
        else:
            out.pop(key, None)
    return out
