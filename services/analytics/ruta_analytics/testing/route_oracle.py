"""Test oracle for the route-of-care figures: computed from the stage and task facts by queries."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import date

from ruta_shared.reference import ROUTE_STAGES

from ruta_analytics.figures.models import Document, Filters
from ruta_analytics.figures.route import stage_summary
from ruta_analytics.projection.models import STAGES, TASKS
from ruta_analytics.projection.store import Generation


def _unit(doc: Document) -> str:
    return str(doc.get("victim_id") or f"case:{doc['case_id']}")


async def _find(generation: Generation, collection: str, match: Document) -> list[Document]:
    return [doc async for doc in generation.collection(collection).find(match)]


async def route_stages(generation: Generation, filters: Filters, *, today: date) -> Document:
    """Per stage: entered and who in the period (day entered), left and the days in stage of
    those left in the period (day left); overdue stages and plan tasks now."""
    entered = await _find(generation, STAGES, filters.case_match())
    left_period = {f"left_{name}": value for name, value in filters.period().items()}
    left = await _find(
        generation, STAGES, {**filters.case_match(period=False), **left_period, "left": True}
    )
    days: dict[str, list[int]] = defaultdict(list)
    for doc in left:
        days[doc["stage"]].append(int(doc["days_in_stage"]))
    stages = []
    for code, label in ROUTE_STAGES.items():
        stays = sorted(days[code])
        stages.append(
            {
                "stage": code,
                "label": label,
                "entered": sum(1 for doc in entered if doc["stage"] == code),
                "left": len(stays),
                "median_days": round(statistics.median(stays), 1) if stays else None,
                "p90_days": stays[math.ceil(len(stays) * 0.9) - 1] if stays else None,
                "victims": len({_unit(doc) for doc in entered if doc["stage"] == code}),
            }
        )
    now = today.isoformat()
    overdue_stages = await _find(
        generation,
        STAGES,
        {
            **filters.case_match(period=False),
            "left": False,
            "$or": [{"overdue": True}, {"target_day": {"$lt": now}}],
        },
    )
    overdue_tasks = await _find(
        generation,
        TASKS,
        {
            **filters.case_match(period=False),
            "status": "open",
            "$or": [{"overdue": True}, {"due_on": {"$lt": now}}],
        },
    )
    return stage_summary(
        stages,
        victims=len({_unit(doc) for doc in entered}),
        overdue_stages=len(overdue_stages),
        overdue_tasks=len(overdue_tasks),
    )
