"""The case-number counter: the next number of an office's year, unique by the case-code index."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ruta_intake.cases.rules import case_code
from ruta_intake.runtime import Runtime

Document = dict[str, Any]


async def next_case_code(*, runtime: Runtime, office: str, year: int) -> str:
    """The next number of an office's year from its counter (numbers lost to failures stay).

    The `$inc` is atomic across processes (MongoDB; FerretDB with our patch), so replicas
    of intake share one counter; the unique index on `case_code` stays the last guarantee
    and `open_case` asks again on a clash.
    """
    counter: Document | None = None
    counter_id = f"{office}-{year}"
    for _ in range(3):
        try:
            counter = await runtime.counters.find_one_and_update(
                {"_id": counter_id},
                {"$inc": {"last": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            break
        except DuplicateKeyError:  # two processes raced to create the counter
            continue
    if counter is None:
        msg = "the case counter was not created"
        raise RuntimeError(msg)
    return case_code(office, year, int(counter["last"]))
