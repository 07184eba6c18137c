"""Adding a batch's counts to the aggregate documents, exactly once per journal.

Read (or take from this worker's cache), add in memory and replace with a compare-and-set on
the document's version `v`: a replace costs FerretDB a fraction of an `$inc` of many fields.
A document already holding the journal's mark (`w.<worker>` >= number) is skipped, and one
another writer changed in between is read and added again. Counters that reach zero are
removed, so a document holds only what counts and equals what a rebuild writes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError
from ruta_shared.lima import today_lima

from ruta_analytics.projection.cube import compact_due
from ruta_analytics.projection.reads import find_ids
from ruta_analytics.projection.storage import decode_cell, encode_cell, split_path, stored_id

Document = dict[str, Any]
Increments = Mapping[str, Mapping[str, float]]  # document -> counter path -> amount
Cells = dict[str, dict[str, float]]  # cell -> counter -> amount
DUPLICATE_KEY: Final = 11000


class CubeCache:
    """The aggregate documents this worker wrote last, newest kept (bounded): a batch
    replaces them without reading them first; the compare-and-set on `v` catches another
    writer's change, and then they are read again."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.collection = ""
        self.documents: OrderedDict[str, Document] = OrderedDict()

    def use(self, collection: str) -> None:
        """Hold documents of `collection` (a rebuild's new generation starts empty)."""
        if collection != self.collection:
            self.collection = collection
            self.documents.clear()

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.documents

    def __getitem__(self, doc_id: str) -> Document:
        return self.documents[doc_id]

    def __bool__(self) -> bool:
        return bool(self.documents)

    def put(self, doc_id: str, document: Document) -> None:
        self.documents[doc_id] = document
        self.documents.move_to_end(doc_id)
        while len(self.documents) > self.size:
            self.documents.popitem(last=False)

    def drop(self, doc_id: str) -> None:
        self.documents.pop(doc_id, None)


async def apply_increments(
    cube: Any,
    increments: Increments,
    worker: str,
    number: int,
    cache: CubeCache | None = None,
) -> None:
    """Add each aggregate document's increments once for journal `number` of `worker`."""
    pending = by_stored(increments)
    trusted = cache is not None
    if cache is not None:
        cache.use(str(cube.name))  # a cache belongs to one generation's collection
    today = today_lima().isoformat()
    while pending:
        current = {i: cache[i] for i in pending if i in cache} if cache and trusted else {}
        missing = [i for i in pending if i not in current]
        current.update({str(d["_id"]): d for d in await find_ids(cube, missing)})
        replaces, inserts = _changes(pending, current, worker, number, cache, today=today)
        if await _write(cube, replaces, inserts):
            return
        trusted = False  # another writer changed some: read them all again (marks tell)
        if cache is not None:
            for target in pending:
                cache.drop(target)


def by_stored(increments: Increments) -> dict[str, Cells]:
    """The increments per stored document (`storage.stored_id`), cell and counter; each
    document's cells in the order of their first path."""
    pending: dict[str, Cells] = {}
    for target, paths in increments.items():
        cells: Cells = {}
        for path, amount in paths.items():
            cell, counter = split_path(path)
            cells.setdefault(cell, {})[counter] = amount
        for cell, amounts in cells.items():
            pending.setdefault(stored_id(target, cell), {})[cell] = amounts
    return pending


def _changes(
    pending: dict[str, Cells],
    current: dict[str, Document],
    worker: str,
    number: int,
    cache: CubeCache | None,
    *,
    today: str,
) -> tuple[list[Any], list[Document]]:
    """The compare-and-set replaces and the inserts that add `pending` to the `current`
    documents (put in `cache`); a document holding this journal's mark is dropped from
    `pending`."""
    replaces: list[Any] = []
    inserts: list[Document] = []
    for target in sorted(pending):
        document = current.get(target)
        marks = (document or {}).get("w") or {}
        if marks.get(worker, 0) >= number:
            del pending[target]  # this journal's counts are in it already
            continue
        new = add_counts(document or {"_id": target}, pending[target], today)
        new["w"] = {**marks, worker: number}
        new["v"] = int((document or {}).get("v") or 0) + 1
        if document is None:
            inserts.append(new)
        else:
            replaces.append(ReplaceOne({"_id": target, "v": document.get("v")}, new))
        if cache is not None:
            cache.put(target, new)
    return replaces, inserts


async def _write(cube: Any, replaces: list[Any], inserts: list[Document]) -> bool:
    """Write; False when another writer got to some document first."""
    clean = True
    if replaces:
        result = await cube.bulk_write(replaces, ordered=False)
        clean = result.matched_count == len(replaces)
    if inserts:
        try:
            await cube.insert_many(inserts, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            clean = False
    return clean


def add_counts(document: Document, cells: Cells, today: str) -> Document:
    """`document` with `cells` (cell -> counter -> amount) added to its counters; only the
    cells they reach are decoded and encoded again; counters at zero and empty cells removed
    (`today`: Lima's, for the all-time documents' due months)."""
    stored = dict(document.get("c") or {})
    all_time = str(document["_id"]).startswith("a:")
    for cell, amounts in cells.items():
        counters = decode_cell(stored.get(cell))
        for counter, amount in amounts.items():
            value = counters.get(counter, 0) + amount
            counters[counter] = round(value, 6) if isinstance(value, float) else value
        if all_time:
            compact_due(counters, today)
        blob = encode_cell(counters)
        if blob:
            stored[cell] = blob
        else:
            stored.pop(cell, None)
    return {**document, "c": stored}
