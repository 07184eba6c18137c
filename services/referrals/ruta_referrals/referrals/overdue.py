"""Overdue referrals: marking each stage past its deadline once, listing and counting them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ruta_shared.aggregate import Change
from ruta_shared.events import Actor, EventData
from ruta_shared.security.principal import Principal

from ruta_referrals.referrals.rules import is_overdue, office_query, overdue_change
from ruta_referrals.referrals.service import list_referrals
from ruta_referrals.runtime import Runtime

OVERDUE_QUERY: Final = {"referrals.overdue_stage": {"$in": ["acknowledgement", "answer"]}}

Document = dict[str, Any]
Referral = dict[str, Any]


async def overdue_referrals(
    *, runtime: Runtime, principal: Principal
) -> list[tuple[Document, Referral]]:
    """Referrals of the caller's offices waiting on an institution past their deadline."""
    query = {**office_query(principal), **OVERDUE_QUERY}
    return await list_referrals(runtime=runtime, query=query, keep=_overdue)


async def mark_overdue(*, runtime: Runtime, now: datetime, actor: Actor) -> list[Referral]:
    """Publish `referral.overdue` once for every stage whose deadline passed; return them."""
    marked: list[Referral] = []
    candidates = await runtime.cases.collection.find(
        {"referrals.deadline_at": {"$lte": now}}, {"_id": 1}
    ).to_list()

    def apply(case: Document) -> Change[list[Referral]]:
        referrals = list(case.get("referrals") or [])
        payloads: list[EventData] = []
        changed: list[Referral] = []
        for index, referral in enumerate(referrals):
            change = overdue_change(referral, now=now, case_id=case["_id"], office=case["office"])
            if change is not None:
                referrals[index] = change.referral
                payloads += change.payloads
                changed.append(change.referral)
        return Change({"$set": {"referrals": referrals}}, payloads, changed)

    for candidate in candidates:
        marked += (await runtime.cases.change(candidate["_id"], apply=apply, actor=actor)).result
    return marked


async def count_overdue(*, runtime: Runtime) -> int:
    """How many referrals are waiting on an institution past their deadline."""
    rows = await list_referrals(runtime=runtime, query=dict(OVERDUE_QUERY), keep=_overdue)
    return len(rows)


def _overdue(_case: Document, referral: Referral) -> bool:
    return is_overdue(referral)
