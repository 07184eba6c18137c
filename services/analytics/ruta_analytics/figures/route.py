"""The route-of-care figures, read from the counters `projection.route_cube` keeps (exact).

Per stage of the protocol: occurrences entered and left in the period, the median and 90th
percentile of whole days in the stage of those left (from their histogram), and who went
through it (victims, or the case for a stage recorded for the whole case); stages per victim;
stages and plan tasks overdue now.
"""

from __future__ import annotations

from datetime import date

from ruta_shared.reference import ROUTE_STAGES

from ruta_analytics.figures.cells import Counts, pairs, under
from ruta_analytics.figures.models import Document
from ruta_analytics.figures.rules import median_of_histogram, percentile_of_histogram


def overdue_now(all_time: Counts, flagged: str, due: str, today: date) -> int:
    """Open things flagged overdue, plus those whose due day is before today."""
    days = under(all_time, due)
    return int(all_time[flagged]) + sum(n for day, n in days.items() if day < today.isoformat())


def route_stages(counts: Counts, all_time: Counts, *, today: date) -> Document:
    """The route-of-care figures of a period (every stage listed, zeros included)."""
    histograms = pairs(counts, "sd")
    stages = []
    for code, label in ROUTE_STAGES.items():
        days = {int(d): n for (stage, d), n in histograms.items() if stage == code}
        median = median_of_histogram(days)
        stages.append(
            {
                "stage": code,
                "label": label,
                "entered": int(counts[f"se.{code}"]),
                "left": int(counts[f"sl.{code}"]),
                "median_days": round(median, 1) if median is not None else None,
                "p90_days": percentile_of_histogram(days, 90),
                "victims": int(counts[f"dss.{code}"]),
            }
        )
    return stage_summary(
        stages,
        victims=int(counts["dsv"]),
        overdue_stages=overdue_now(all_time, "sov", "sdue", today),
        overdue_tasks=overdue_now(all_time, "tov", "tdue", today),
    )


def stage_summary(
    stages: list[Document], *, victims: int, overdue_stages: int, overdue_tasks: int
) -> Document:
    """The figures around the per-stage rows (shared with the test oracle)."""
    stays = sum(int(stage["victims"]) for stage in stages)  # distinct (victim, stage) pairs
    return {
        "stages": stages,
        "victims": victims,
        "stays": stays,
        "stages_per_victim": round(stays / victims, 2) if victims else None,
        "overdue_stages_now": overdue_stages,
        "overdue_tasks_now": overdue_tasks,
    }
