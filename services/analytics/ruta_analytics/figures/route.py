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


def overdue_now(all_time: Counts, due_days: Counts, family: str, today: date) -> int:
    """Open things (`family`: r referrals, s stages, t plan tasks) flagged overdue, plus those
    due before today: by due month for months before today's (all time), by due day for
    today's month (its due document; `projection.cube.DUE_COUNTERS`)."""
    day = today.isoformat()
    month = day[:7]
    months = sum(n for due, n in under(all_time, f"{family}due").items() if due < month)
    days = sum(n for due, n in under(due_days, f"{family}day").items() if due < day)
    return int(all_time[f"{family}ov"]) + months + days


def route_stages(counts: Counts, all_time: Counts, due_days: Counts, *, today: date) -> Document:
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
        overdue_stages=overdue_now(all_time, due_days, "s", today),
        overdue_tasks=overdue_now(all_time, due_days, "t", today),
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
