"""The aggregate documents as counters, for tests that compare a live projection and a rebuild."""

from __future__ import annotations

from typing import Any

from ruta_analytics.projection.storage import decode_cells


def stored_counters(document: dict[str, Any]) -> dict[str, float]:
    """An aggregate document's counters by region, cell and counter (marks left out)."""
    out: dict[str, float] = {}
    for region in document.get("c", {}):
        for cell, counters in decode_cells(document, region).items():
            out.update({f"{region}/{cell}/{k}": round(float(v), 6) for k, v in counters.items()})
    return out
