"""Reading many documents by `_id` at once: `_id: {$in: [...]}` in chunks.

FerretDB (with our patch `writes-atomic-and-id-in-pushdown.patch`) serves an `_id` list from
its `_id` index, so one query per chunk replaces one round trip per document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

CHUNK: Final = 1_000  # ids per query (the patch pushes down at most 10,000)


async def find_ids(
    collection: Any, ids: Iterable[str], projection: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """The documents of `collection` with these ids (absent ones are simply missing), with
    only the `projection` fields when given."""
    wanted = sorted(set(ids))
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found += [
            document async for document in collection.find({"_id": {"$in": chunk}}, projection)
        ]
    return found
