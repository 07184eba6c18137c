"""Small-cell suppression (pure logic): primary suppression of counts below k, then
complementary suppression so that no hidden cell can be worked out from the totals.

A table with its margins is a grid whose every row and column obeys "the cells add up to the
total cell". A line with exactly one hidden cell gives that cell away, so while any line has
exactly one hidden cell another cell of that line is hidden too (the smallest non-zero one,
so as little as possible is lost). This protects against recomputation from row and column
totals; it does not claim to defeat every linear-programming attack on interval bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

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
