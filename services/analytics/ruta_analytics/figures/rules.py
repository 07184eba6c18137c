"""The figures' pure logic: tables and vectors built from cells, and growth.

Every table is built from its cells and its totals are sums of those cells, so totals always
equal the sum of their parts. The suppressed view is `figures.publication`.
"""

from __future__ import annotations

from ruta_analytics.figures.models import OTHER, OTHER_LABEL, UNKNOWN, UNKNOWN_LABEL, Document


def table(
    counts: dict[tuple[str, str], int],
    rows: dict[str, str],
    columns: dict[str, str],
) -> Document:
    """A two-way table with row and column totals (all derived from the cells)."""
    row_keys = list(rows)
    cells = [[counts.get((r, c), 0) for c in columns] for r in row_keys]
    return {
        "rows": row_keys,
        "row_labels": [rows[r] for r in row_keys],
        "columns": list(columns),
        "column_labels": list(columns.values()),
        "cells": cells,
        "row_totals": [sum(row) for row in cells],
        "column_totals": [sum(row[j] for row in cells) for j in range(len(columns))],
        "total": sum(sum(row) for row in cells),
    }


def vector(
    counts: dict[str, int], labels: dict[str, str], *, keep_all: bool = False, whole: bool = False
) -> Document:
    """A one-way table (entries and their total); unknown values last, labelled.

    `keep_all`: every label listed, zeros included. `whole`: the whole key set, always the
    same keys (values outside `labels`, such as a foreign country of origin, summed under
    OTHER), so that a key's presence never tells that its count is not zero.
    """
    if whole:
        folded = {key: n for key, n in counts.items() if key in labels or key == UNKNOWN}
        folded[OTHER] = sum(n for key, n in counts.items() if key not in folded)
        keys = [*labels, OTHER, UNKNOWN]
        values = [folded.get(key, 0) for key in keys]
        names = [*labels.values(), OTHER_LABEL, UNKNOWN_LABEL]
        return {"keys": keys, "labels": names, "values": values, "total": sum(values)}
    keys = [key for key in labels if counts.get(key, 0)]
    keys += sorted(key for key in counts if key not in labels and key != UNKNOWN)
    if counts.get(UNKNOWN, 0):
        keys.append(UNKNOWN)
    values = [counts.get(key, 0) for key in keys]
    return {
        "keys": keys,
        "labels": [labels.get(key, UNKNOWN_LABEL if key == UNKNOWN else key) for key in keys],
        "values": values,
        "total": sum(values),
    }


def growth(current: int, previous: int | None) -> float | None:
    """Growth over the previous year in percent (one decimal), None without a base."""
    if not previous:
        return None
    return round((current - previous) * 100 / previous, 1)


def _value_at(ordered: list[tuple[int, int]], index: int) -> int:
    """The value at 0-based position `index` of a sorted histogram's values."""
    seen = 0
    for value, n in ordered:
        seen += n
        if index < seen:
            return value
    return ordered[-1][0]


def _sorted_histogram(counts: dict[int, int]) -> tuple[list[tuple[int, int]], int]:
    ordered = sorted((value, n) for value, n in counts.items() if n > 0)
    return ordered, sum(n for _, n in ordered)


def median_of_histogram(counts: dict[int, int]) -> float | None:
    """The exact median of values given as a histogram (value -> how many), None if empty."""
    ordered, total = _sorted_histogram(counts)
    if not total:
        return None
    middle = total // 2
    if total % 2:
        return float(_value_at(ordered, middle))
    return (_value_at(ordered, middle - 1) + _value_at(ordered, middle)) / 2


def percentile_of_histogram(counts: dict[int, int], percent: int) -> int | None:
    """The exact `percent`th percentile (nearest rank: the smallest value that at least
    `percent`% of the values do not exceed) of a histogram, None if empty."""
    ordered, total = _sorted_histogram(counts)
    if not total:
        return None
    rank = -(-total * percent // 100)  # ceil(total * percent / 100), in integers
    return _value_at(ordered, max(rank, 1) - 1)
