"""The aggregate documents as counters, for tests that compare a live projection and a rebuild."""

from __future__ import annotations

from typing import Any

from ruta_analytics.projection.storage import cells_of


def stored_counters(document: dict[str, Any]) -> dict[str, float]:
    """An aggregate document's counters by cell and counter (marks left out)."""
    out: dict[str, float] = {}
    for cell, counters in cells_of(document).items():
        out.update({f"{cell}/{k}": round(float(v), 6) for k, v in counters.items()})
    return out
