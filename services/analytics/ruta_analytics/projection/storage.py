"""How aggregate and presence documents are stored: compressed blobs, not many fields.

An aggregate document (`projection.cube`: one per period, office and region) is stored as one
document per crime type (or `*`), `<period>:<office>:<region>:<crime type>`, which keeps each
of its cells' counters (one per project or `*`) as one compressed JSON text under `c.<cell>`:
a read loads small documents and decodes only the cells it takes, and a write decodes and
encodes only the cells it changes. A presence document keeps its occurrences as one blob.
FerretDB v1 converts every field of a document on each read and write and loads a whole
document even for a projection: blobs keep the fields few, and small documents keep what a
read loads small. MongoDB stores the same documents.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any, Final

from ruta_shared.lima import today_lima

from ruta_analytics.projection.cube import compact_due

Document = dict[str, Any]
# A cell's JSON text: keys sorted, no spaces (one encoder, not one built per `json.dumps`).
CELL_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def stored_id(target: str, cell: str) -> str:
    """The stored document of a cell of a (period, office, region) document: one per crime
    type (or `*`), holding that crime type's cells (per project or `*`). A read takes one or
    two cells, and FerretDB loads whole documents: the more cells a document holds, the more
    a read loads."""
    return f"{target}:{cell.split('|', 1)[0]}"


def split_path(path: str) -> tuple[str, str]:
    """(cell, counter) of a delta's path `c.<cell>.<counter>` (cell keys have no dots)."""
    _, cell, counter = path.split(".", 2)
    return cell, counter


def encode_cell(counters: Mapping[str, float]) -> bytes:
    """One cell's counters as stored: one compressed JSON text, zeros left out (empty bytes:
    nothing counts)."""
    kept = {k: v for k, v in counters.items() if v}
    if not kept:
        return b""
    return zlib.compress(CELL_JSON.encode(kept).encode(), 1)


def decode_cell(stored: bytes | None) -> dict[str, float]:
    """A stored cell's counters."""
    return dict(json.loads(zlib.decompress(stored))) if stored else {}


def cells_of(document: Document) -> dict[str, dict[str, float]]:
    """A stored document's cells, decoded."""
    return {cell: decode_cell(blob) for cell, blob in (document.get("c") or {}).items()}


def nest(cells: Mapping[tuple[str, str], dict[str, Any]]) -> dict[str, Document]:
    """Aggregate documents as stored, from the counters per (document, cell) (a rebuild's
    inserts); zeros and empty cells are left out, as `counts.add_counts` does."""
    today = today_lima().isoformat()
    documents: dict[str, Document] = {}
    for (target, cell), counters in sorted(cells.items()):
        if not counters:
            continue
        if target.startswith("a:"):
            compact_due(counters, today)
        blob = encode_cell(counters)
        if blob:
            stored = stored_id(target, cell)
            documents.setdefault(stored, {"_id": stored, "c": {}})["c"][cell] = blob
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
