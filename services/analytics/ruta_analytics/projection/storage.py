"""How aggregate and presence documents are stored: compressed blobs, not many fields.

FerretDB v1 converts every field of a document on each read and write, so a (period, office)
document keeps each region's cells as one compressed JSON text, and a presence document its
occurrences as one. MongoDB stores the same documents.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

from ruta_shared.lima import today_lima

from ruta_analytics.projection.cube import compact_due

Document = dict[str, Any]


def split_path(path: str) -> tuple[str, str]:
    """(cell, counter) of a delta's path `c.<cell>.<counter>` (cell keys have no dots)."""
    _, cell, counter = path.split(".", 2)
    return cell, counter


def stored_at(target: str) -> tuple[str, str]:
    """Where a (period, office, region) document is stored: the (period, office) document
    and, in it, the region's field (`c.<region>`). Fewer, larger documents: FerretDB v1 pays
    mostly per document written."""
    stored, region = target.rsplit(":", 1)
    return stored, region


def encode_cells(cells: Mapping[str, Mapping[str, float]]) -> bytes:
    """One region's cells as stored: one compressed JSON text of {cell: {counter path:
    amount}}, zeros and empty cells left out (empty bytes: nothing counts).

    One blob rather than nested fields: FerretDB v1 converts every field of a document on
    each read and write, and a region holds thousands of counters.
    """
    kept = {
        cell: {k: v for k, v in sorted(counters.items()) if v}
        for cell, counters in sorted(cells.items())
    }
    if not any(kept.values()):
        return b""
    text = json.dumps({cell: c for cell, c in kept.items() if c}, separators=(",", ":"))
    return zlib.compress(text.encode(), 1)


def decode_cells(document: Document, region: str) -> dict[str, dict[str, float]]:
    """A stored document's cells of one region."""
    stored = (document.get("c") or {}).get(region)
    return dict(json.loads(zlib.decompress(stored))) if stored else {}


def nest(cells: Mapping[tuple[str, str], dict[str, Any]]) -> dict[str, Document]:
    """Aggregate documents as stored, from the counters per (document, cell) (a rebuild's
    inserts); zeros, empty cells and empty regions are left out, as `counts.add_counts` does."""
    by_stored: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for (target, cell), counters in cells.items():
        if counters:
            stored, region = stored_at(target)
            by_stored.setdefault(stored, {}).setdefault(region, {})[cell] = counters
    today = today_lima().isoformat()
    documents: dict[str, Document] = {}
    for stored, regions in by_stored.items():
        if stored.startswith("a:"):
            for by_cell in regions.values():
                for counters in by_cell.values():
                    compact_due(counters, today)
        blobs = {r: blob for r, c in sorted(regions.items()) if (blob := encode_cells(c))}
        if blobs:
            documents[stored] = {"_id": stored, "c": blobs}
    return documents


def encode_presence(document: Document) -> Document:
    """A presence document as stored: its occurrences as one compressed JSON blob (FerretDB
    v1 converts every field of a document on each write)."""
    text = json.dumps(document.get("occ") or {}, sort_keys=True, separators=(",", ":"))
    return {"_id": document["_id"], "occ": zlib.compress(text.encode(), 1)}


def decode_presence(stored: Document) -> Document:
    """A stored presence document as the projection works with it."""
    occ = stored.get("occ")
    if isinstance(occ, bytes | bytearray):
        occ = json.loads(zlib.decompress(occ))
    return {"_id": stored["_id"], "occ": dict(occ or {})}
