"""Small-cell suppression: primary cells, complementary cells, nothing recomputable."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

from ruta_analytics.figures.suppression import (
    pinned,
    solve,
    suppress_grid,
    suppress_vector,
    with_margins,
)


def recoverable(grid: list[list[int]], hidden: list[list[bool]]) -> bool:
    """True when some line has exactly one hidden cell (it equals total minus the rest)."""
    height, width = len(grid), len(grid[0])
    rows = [[hidden[i][j] for j in range(width)] for i in range(height)]
    cols = [[hidden[i][j] for i in range(height)] for j in range(width)]
    return any(sum(line) == 1 for line in rows + cols)


def test_report_table_keeps_large_cells_and_hides_small_ones() -> None:
    cells = [[97, 189, 4], [10, 42, 0], [0, 0, 2]]
    grid = with_margins(cells)
    hidden = suppress_grid(grid, 5)
    assert grid[-1][-1] == 344
    assert hidden[0][2]
    assert hidden[2][2]
    assert hidden[2][3]  # the row total of unknown sex (2) is itself small
    assert not hidden[0][1]
    assert not hidden[1][1]
    assert not hidden[3][3]  # the grand total stays
    assert not recoverable(grid, hidden)


def test_single_small_cell_in_a_row_gets_a_complement() -> None:
    grid = with_margins([[3, 50, 60], [40, 70, 80]])
    hidden = suppress_grid(grid, 5)
    assert hidden[0][0]
    assert sum(hidden[0]) >= 2
    assert sum(hidden[i][0] for i in range(3)) >= 2
    assert not recoverable(grid, hidden)


def test_zeros_and_large_counts_are_not_primary() -> None:
    grid = with_margins([[0, 10], [20, 30]])
    assert not any(itertools.chain.from_iterable(suppress_grid(grid, 5)))


def test_random_tables_never_leave_a_cell_recoverable() -> None:
    rng = random.Random(7)
    for _ in range(300):
        height, width = rng.randrange(1, 5), rng.randrange(1, 6)
        cells = [[rng.choice([0, 1, 2, 4, 5, 9, 30]) for _ in range(width)] for _ in range(height)]
        grid = with_margins(cells)
        hidden = suppress_grid(grid, 5)
        assert not recoverable(grid, hidden)
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                if 0 < value < 5:
                    assert hidden[i][j]


def test_vector_hides_a_complement_for_a_lone_small_entry() -> None:
    mask, total_hidden = suppress_vector([3, 40, 12], 5)
    assert mask == [True, False, True]
    assert not total_hidden
    mask, total_hidden = suppress_vector([3, 0], 5)
    assert mask[0]
    assert total_hidden


def test_solve_hides_a_second_cell_where_one_line_would_give_the_first_away() -> None:
    values = {"a": 2, "b": 9, "c": 30, "t": 41}
    hidden = solve(values, [["a", "b", "c", "t"]], 5)
    assert hidden == {"a", "b"}


def test_solve_does_not_leave_hidden_parts_that_could_only_all_be_one() -> None:
    values = {"a": 1, "b": 1, "c": 30, "t": 32}
    hidden = solve(values, [["a", "b", "c", "t"]], 5)
    assert hidden == {"a", "b", "c"}


def test_pinned_finds_a_cell_determined_only_by_several_lines_together() -> None:
    # x + y = shown, y + z = shown, x + z = shown: every line has two hidden cells, yet
    # the three together give each one (2x = l1 - l2 + l3).
    lines = [["x", "y", "s1"], ["y", "z", "s2"], ["x", "z", "s3"]]
    assert pinned(lines, {"x", "y", "z"}) == {"x", "y", "z"}
    values = {"x": 2, "y": 3, "z": 9, "s1": 5, "s2": 12, "s3": 11}
    hidden = solve(values, lines, 5)
    assert {"x", "y"} <= hidden
    assert not {key for key in pinned(lines, hidden) if 0 < values[key] < 5}


def _in_row_space(rows: list[dict[str, int]], key: str) -> bool:
    """Whether the unit vector of `key` is a combination of `rows` (exact, with fractions)."""
    keys = sorted({k for row in rows for k in row} | {key})

    def rank(vectors: list[dict[str, int]]) -> int:
        matrix = [[Fraction(v.get(k, 0)) for k in keys] for v in vectors]
        found = 0
        for column in range(len(keys)):
            pivot = next((r for r in range(found, len(matrix)) if matrix[r][column]), None)
            if pivot is None:
                continue
            matrix[found], matrix[pivot] = matrix[pivot], matrix[found]
            for r in range(len(matrix)):
                if r != found and matrix[r][column]:
                    f = matrix[r][column] / matrix[found][column]
                    matrix[r] = [a - f * b for a, b in zip(matrix[r], matrix[found], strict=True)]
            found += 1
        return found

    return rank(rows) == rank([*rows, {key: 1}])


def test_pinned_agrees_with_exact_rank_on_random_relations() -> None:
    rng = random.Random(11)
    names = [f"k{i}" for i in range(10)]
    for _ in range(200):
        lines = [rng.sample(names, rng.randrange(2, 5)) for _ in range(rng.randrange(1, 8))]
        hidden = set(rng.sample(names, rng.randrange(1, 10)))
        rows = []
        for line in lines:
            row: dict[str, int] = {}
            for key in line[:-1]:
                if key in hidden:
                    row[key] = row.get(key, 0) + 1
            if line[-1] in hidden:
                row[line[-1]] = row.get(line[-1], 0) - 1
            rows.append({k: v for k, v in row.items() if v})
        expected = {key for key in hidden if _in_row_space(rows, key)}
        assert pinned(lines, hidden) == expected, (lines, hidden)


def test_an_unreleased_count_below_k_is_protected_and_one_of_k_or_more_may_be_determined() -> None:
    # A national count and two projects' counts: the facts of no project (r) are never shown.
    small = {"p1": 20, "p2": 30, "r": 2, "n": 52}
    hidden = solve(small, [["p1", "p2", "r", "n"]], 5, unreleased={"r"})
    assert {"r", "p1"} <= hidden  # the smallest project's count hides it
    assert "r" not in pinned([["p1", "p2", "r", "n"]], hidden)
    large = {"p1": 20, "p2": 30, "r": 9, "n": 59}
    assert solve(large, [["p1", "p2", "r", "n"]], 5, unreleased={"r"}) == {"r"}
    zero = {"p1": 20, "p2": 30, "r": 0, "n": 50}
    assert solve(zero, [["p1", "p2", "r", "n"]], 5, unreleased={"r"}) == {"r"}


def test_a_line_left_to_be_all_ones_once_a_determined_value_is_known_gets_a_complement() -> None:
    # c is never shown but the second line determines it (harmless alone: 30 >= k); then the
    # first line leaves a + b = 2, so each would be 1.
    values = {"a": 1, "b": 1, "c": 30, "t": 32, "d": 40, "u": 70}
    lines = [["a", "b", "c", "t"], ["c", "d", "u"]]
    hidden = solve(values, lines, 5, unreleased={"c"})
    known = pinned(lines, hidden)
    assert {"a", "b", "c"} < hidden
    for line in lines:
        if line[-1] in hidden and line[-1] not in known:
            continue
        unknown = [key for key in line[:-1] if key in hidden and key not in known]
        assert not unknown or sum(values[key] for key in unknown) != len(unknown)
