"""Streams the HTCDS CSV: cases paged by `_id`, one row per victim, optionally k-anonymised."""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any, Final

from ruta_shared.security.permissions import OFFICE_SCOPE
from ruta_shared.security.principal import Principal

from ruta_intake.exports.models import HEADER
from ruta_intake.exports.rules import Key, Row, plan_generalisation, publish, quasi_key, victim_row
from ruta_intake.runtime import Runtime

Document = dict[str, Any]

# Cases read per round trip: one bounded `_id` range scan each, whatever the country's size.
PAGE_SIZE: Final = 200
SKIPPED: Final = {"_outbox": 0, "relatives": 0, "consents": 0, "care": 0}


def _scope(principal: Principal) -> Document:
    """The office filter of the caller (roles that see every office get none)."""
    if OFFICE_SCOPE.get(principal.role) == "all":
        return {}
    return {"office": {"$in": sorted(principal.offices)}}


async def victim_rows(*, runtime: Runtime, principal: Principal) -> AsyncIterator[list[Row]]:
    """The rows of the caller's cases, a page of cases at a time, in `_id` order."""
    scope, last = _scope(principal), None
    while True:
        query = scope if last is None else {**scope, "_id": {"$gt": last}}
        cursor = runtime.cases.collection.find(query, SKIPPED, sort=[("_id", 1)], limit=PAGE_SIZE)
        cases = await cursor.to_list(PAGE_SIZE)
        if not cases:
            return
        yield [victim_row(case, victim) for case in cases for victim in case.get("victims", [])]
        last = cases[-1]["_id"]


def _csv(rows: Iterable[Row], *, header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\r\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


async def htcds_csv(*, runtime: Runtime, principal: Principal) -> AsyncIterator[str]:
    """Every visible victim's row, streamed page by page."""
    yield _csv([], header=True)
    async for rows in victim_rows(runtime=runtime, principal=principal):
        yield _csv(rows)


async def k_anonymous_csv(
    *, runtime: Runtime, principal: Principal, k: int, max_suppressed: float
) -> AsyncIterator[str]:
    """The rows generalised and suppressed so that every quasi-identifier combination has k.

    The plan needs every row's quasi-identifiers before the first row goes out, and the
    rows must be the ones counted even if cases change meanwhile: the first pass spools
    them (non-identifying fields only) to an unlinked temporary file, not to memory.
    """
    counts: Counter[Key] = Counter()
    with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as spool:
        writer = csv.DictWriter(spool, fieldnames=HEADER, lineterminator="\r\n")
        async for rows in victim_rows(runtime=runtime, principal=principal):
            counts.update(quasi_key(row) for row in rows)
            writer.writerows(rows)
        plan = plan_generalisation(counts, k=k, max_suppressed=max_suppressed)
        spool.seek(0)
        yield _csv([], header=True)
        page: list[Row] = []
        for row in csv.DictReader(spool, fieldnames=HEADER):
            published = publish(row, plan)
            if published is not None:
                page.append(published)
            if len(page) >= PAGE_SIZE:
                yield _csv(page)
                page = []
        if page:
            yield _csv(page)
