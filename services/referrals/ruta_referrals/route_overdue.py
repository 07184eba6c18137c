"""Marking entries of a case's route (stages, plan tasks) overdue once: the one loop both use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ruta_shared.aggregate import Change
from ruta_shared.events import Actor, EventData

from ruta_referrals.runtime import Runtime

Document = dict[str, Any]
# (case, entry, now) -> the entry marked and its event, or None when it is not overdue.
MarkFn = Callable[[Document, Document, datetime], tuple[Document, EventData] | None]


async def mark_entries_overdue(
    *, runtime: Runtime, field: str, now: datetime, actor: Actor, mark: MarkFn
) -> list[Document]:
    """Apply `mark` to every entry of `field` whose `deadline_at` passed; return those marked.

    `mark` clears the deadline in the same `_seq`-guarded write, so each is published once.
    """
    marked: list[Document] = []
    candidates = await runtime.cases.collection.find(
        {f"{field}.deadline_at": {"$lte": now}}, {"_id": 1}
    ).to_list()

    def apply(case: Document) -> Change[list[Document]]:
        entries = list(case.get(field) or [])
        events: list[EventData] = []
        changed: list[Document] = []
        for index, entry in enumerate(entries):
            outcome = mark(case, entry, now)
            if outcome is not None:
                entries[index] = outcome[0]
                events.append(outcome[1])
                changed.append(outcome[0])
        return Change({"$set": {field: entries}} if events else {}, events, changed)

    for candidate in candidates:
        marked += (await runtime.cases.change(candidate["_id"], apply=apply, actor=actor)).result
    return marked
