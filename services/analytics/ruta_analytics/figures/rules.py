"""The figures' pure logic: tables and vectors built from cells, growth, and the suppressed view.

Every table is built from its cells and its totals are sums of those cells, so totals always
equal the sum of their parts. `suppressed()` turns exact figures into the auditor, donor and
export view.
"""

from __future__ import annotations

from ruta_analytics.figures.models import UNKNOWN, UNKNOWN_LABEL, Document
from ruta_analytics.figures.suppression import (
    suppress_count,
    suppress_grid,
    suppress_vector,
    with_margins,
)


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


def vector(counts: dict[str, int], labels: dict[str, str], *, keep_all: bool = False) -> Document:
    """A one-way table (entries and their total); unknown values last, labelled."""
    keys = [key for key in labels if keep_all or counts.get(key, 0)]
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


def suppressed(figures: Document, k: int) -> Document:
    """The auditor, donor and export view: small cells and whatever reveals them hidden.

    Hidden values become null and the document says `suppressed: true` with its k.
    """
    out: Document = {"filters": figures["filters"], "k": k, "suppressed": True}
    out["cases_opened"] = _count(figures["cases_opened"], k)
    out["victims"] = _hide_table(figures["victims"], k)
    out["per_year"] = _hide_years(figures["per_year"], k)
    out["victims_by_region_of_origin"] = _hide_vector(figures["victims_by_region_of_origin"], k)
    out["victims_by_region_of_exploitation"] = _hide_vector(
        figures["victims_by_region_of_exploitation"], k
    )
    care = figures["care"]
    out["care"] = {
        "by_type": _hide_vector(care["by_type"], k),
        "victims_cared_for": _count(care["victims_cared_for"], k),
    }
    ref = figures["referrals"]
    out["referrals"] = {
        "by_institution_and_outcome": _hide_table(ref["by_institution_and_outcome"], k),
        "victims_by_institution": _hide_vector(ref["victims_by_institution"], k),
        "victims_referred": _count(ref["victims_referred"], k),
        "accepted": _count(ref["accepted"], k),
        "answered": _count(ref["answered"], k),
        "acceptance_rate_pct": ref["acceptance_rate_pct"] if ref["answered"] >= k else None,
        "median_days_to_acceptance": ref["median_days_to_acceptance"]
        if ref["accepted"] >= k
        else None,
        "overdue_now": _count(ref["overdue_now"], k),
    }
    ret = figures["returns_home"]
    out["returns_home"] = {
        "by_region_of_origin": _hide_vector(ret["by_region_of_origin"], k),
        "funded": _count(ret["funded"], k),
        "victims": _count(ret["victims"], k),
    }
    rei = figures["reintegration"]
    out["reintegration"] = {
        "by_milestone": _hide_vector(rei["by_milestone"], k),
        "victims": _count(rei["victims"], k),
    }
    tr = figures["training"]
    out["training"] = {
        "sessions_held": tr["sessions_held"],  # sessions are not people
        "people_reached": _count(tr["people_reached"], k),
        "participants": _count(tr["participants"], k),
        "headcount": _count(tr["headcount"], k),
        "by_audience": _hide_vector(tr["by_audience"], k),
        "by_region": _hide_vector(tr["by_region"], k),
        "by_home_region": _hide_vector(tr["by_home_region"], k),
        "by_sex": _hide_vector(tr["by_sex"], k),
        "car_staff": _count(tr["car_staff"], k),
        "assessments": _count(tr["assessments"], k),
        "average_test_gain": tr["average_test_gain"] if tr["assessments"] >= k else None,
    }
    return out


def _count(value: int, k: int) -> int | None:
    return None if suppress_count(value, k) else value


def _hide_table(source: Document, k: int) -> Document:
    cells = source["cells"]
    if not cells or not source["columns"]:
        return {**source}
    grid = with_margins(cells)
    hidden = suppress_grid(grid, k)
    height, width = len(cells), len(source["columns"])

    def show(i: int, j: int) -> int | None:
        return None if hidden[i][j] else grid[i][j]

    return {
        **source,
        "cells": [[show(i, j) for j in range(width)] for i in range(height)],
        "row_totals": [show(i, width) for i in range(height)],
        "column_totals": [show(height, j) for j in range(width)],
        "total": show(height, width),
    }


def _hide_vector(source: Document, k: int) -> Document:
    mask, total_hidden = suppress_vector(source["values"], k)
    return {
        **source,
        "values": [None if hide else v for v, hide in zip(source["values"], mask, strict=True)],
        "total": None if total_hidden else source["total"],
    }


def _hide_years(rows: list[Document], k: int) -> list[Document]:
    hidden_cases = {row["year"]: suppress_count(row["cases"], k) for row in rows}
    hidden_victims = {row["year"]: suppress_count(row["victims"], k) for row in rows}
    out = []
    for row in rows:
        year = row["year"]
        # Without the previous year's count at hand, growth could reveal a small one: hide it.
        previous_hidden_c = hidden_cases.get(year - 1, True)
        previous_hidden_v = hidden_victims.get(year - 1, True)
        out.append(
            {
                "year": year,
                "cases": None if hidden_cases[year] else row["cases"],
                "cases_growth_pct": None
                if hidden_cases[year] or previous_hidden_c
                else row["cases_growth_pct"],
                "victims": None if hidden_victims[year] else row["victims"],
                "victims_growth_pct": None
                if hidden_victims[year] or previous_hidden_v
                else row["victims_growth_pct"],
            }
        )
    return out
