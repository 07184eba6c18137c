"""Small-cell suppression (pure logic): primary suppression of counts below k, then
complementary suppression so that no hidden cell can be worked out from the totals.

A table with its margins is a grid whose every row and column obeys "the cells add up to the
total cell". A line with exactly one hidden cell gives that cell away, so while any line has
exactly one hidden cell another cell of that line is hidden too (the smallest non-zero one,
so as little as possible is lost). This protects against recomputation from row and column
totals. `solve` does the same over any set of linear relations (lines: parts, then their
total), and then checks all the relations together by exact elimination (modulo a large
prime): while a count below k is pinned down by them, another cell of one of its lines is
hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
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
        for indexes in _leaks(values, lines, hidden, known, k):
            if touched.intersection(indexes):
                continue
            options = _options(lines, indexes, hidden, known, by_key)
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
) -> list[list[int]]:
    """What the lines still give away, as the lines to hide a complement in: a count below k
    they determine (its lines), and hidden parts of a line whose total is known that, the
    determined values taken off, could only all be 1 (that line)."""
    around: dict[Any, list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        for key in line:
            if key in known:
                around[key].append(index)
    found = [around[key] for key in sorted(known, key=repr) if 0 < values[key] < k]
    for index, line in enumerate(lines):
        if k < 2 or (line[-1] in hidden and line[-1] not in known):
            continue
        parts = [key for key in line[:-1] if key in hidden and key not in known]
        if (
            parts
            and all(values[key] >= 1 for key in parts)
            and sum(values[key] for key in parts) == len(parts)
        ):
            found.append([index])
    return found


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
    determined when its unit vector is in the rows' span: in reduced row echelon form, its
    column is a pivot whose row has no other entry.
    """
    rows: list[dict[Any, int]] = []
    for line in lines:
        row: dict[Any, int] = defaultdict(int)
        for key in line[:-1]:
            if key in hidden:
                row[key] += 1
        if line[-1] in hidden:
            row[line[-1]] -= 1
        clean = {key: value % PRIME for key, value in row.items() if value % PRIME}
        if clean:
            rows.append(clean)
    pivots: dict[Any, dict[Any, int]] = {}
    # Column -> the pivots whose row has it: a new pivot updates only the rows it is in,
    # not every row (the elimination of a scope's thousands of hidden keys).
    holders: dict[Any, set[Any]] = defaultdict(set)
    for raw in rows:
        reduced = _reduce(raw, pivots)
        if not reduced:
            continue
        lead = min(reduced, key=repr)
        inverse = pow(reduced[lead], PRIME - 2, PRIME)
        unit = {key: value * inverse % PRIME for key, value in reduced.items()}
        for other in holders.pop(lead, set()):  # keep every pivot row reduced
            before = pivots[other]
            after = _axpy(before, unit, -before[lead])
            for key in before.keys() - after.keys() - {lead}:
                holders[key].discard(other)
            for key in after.keys() - before.keys():
                holders[key].add(other)
            pivots[other] = after
        pivots[lead] = unit
        for key in unit:
            if key != lead:
                holders[key].add(lead)
    return {lead for lead, row in pivots.items() if len(row) == 1}


def _reduce(row: dict[Any, int], pivots: Mapping[Any, dict[Any, int]]) -> dict[Any, int]:
    for lead in [key for key in row if key in pivots]:
        factor = row.get(lead)
        if factor:
            row = _axpy(row, pivots[lead], -factor)
    return row


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
