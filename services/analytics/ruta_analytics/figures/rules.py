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


def median_of_histogram(counts: dict[int, int]) -> float | None:
    """The exact median of values given as a histogram (value -> how many), None if empty."""
    total = sum(n for n in counts.values() if n > 0)
    if not total:
        return None
    ordered = sorted((value, n) for value, n in counts.items() if n > 0)

    def at(index: int) -> int:  # the value at 0-based position `index` in sorted order
        seen = 0
        for value, n in ordered:
            seen += n
            if index < seen:
                return value
        return ordered[-1][0]

    middle = total // 2
    if total % 2:
        return float(at(middle))
    return (at(middle - 1) + at(middle)) / 2
