"""The route of care's counters in the figures' aggregates (pure), referenced by cube's tables.

A stage occurrence adds `se.<stage>` where it was entered (its case's office, region, crime
types and project; the day entered) and, once left, `sl.<stage>` and the whole-days histogram
`sd.<stage>.<days>` where it was left (the day left), so the median and 90th percentile of
the days in each stage are exact for any filter. While open it adds the all-time `@sov`
(flagged overdue by referrals) or its target day (overdue from the day after, read against
today; `due_counters`). An open plan task adds `@tov` (flagged) or its due day.

Distinct counts are presences: `dss:<stage>:<unit>` (who went through each stage) and
`dsv:<unit>` (who went through any). The unit is the victim, or the case (`case:<id>`) for a
stage recorded for the whole case: such a stage counts once, for the case, since which of
the case's victims analytics knows when it arrives depends on the order topics are read in,
and a rebuild must count exactly what the live projection counts. Stages per victim is then
the sum of `dss` over stages (distinct (unit, stage) pairs) over `dsv`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ruta_analytics.projection.cube import Where

Document = dict[str, Any]
Counters = list[tuple[str, float]]

STAGE_PRESENCE: Final = ("dss", "dsv")
# Presences counted per kind of thing as well as per unit (the kind is in the presence id).
STAGE_KINDS: Final = {"dss": "stage"}


def due_counters(family: str, day: str) -> Counters:
    """An open thing due on `day` (`family` r, s or t): its due month in the all-time
    documents, its day in the due month's document (see `cube.DUE_COUNTERS`)."""
    return [(f"@{family}due.{day[:7]}", 1), (f"!{family}day.{day}", 1)]


def stage_counters(doc: Document) -> Counters:
    """What a stage occurrence adds where (and when) it was entered."""
    stage = doc["stage"]
    counters: Counters = [(f"se.{stage}", 1)]
    if not doc.get("left"):  # open: overdue now, a flag or a target day before today
        if doc.get("overdue"):
            counters.append(("@sov", 1))
        elif doc.get("target_day"):
            counters += due_counters("s", doc["target_day"])
    return counters


def stage_moments(doc: Document, entered: Where) -> list[tuple[Where, Counters]]:
    """(place, counters) of a stage occurrence: where it was entered, and where it was left."""
    moments = [(entered, stage_counters(doc))]
    year, month = doc.get("left_year"), doc.get("left_month")
    if doc.get("left") and isinstance(year, int) and isinstance(month, int):
        stage, days = doc["stage"], int(doc.get("days_in_stage") or 0)
        left = entered._replace(year=year, month=month)
        moments.append((left, [(f"sl.{stage}", 1), (f"sd.{stage}.{days}", 1)]))
    return moments


def task_counters(doc: Document) -> Counters:
    """What an open plan task adds (all time only: it is about now)."""
    if doc.get("status") != "open":
        return []
    if doc.get("overdue"):
        return [("@tov", 1)]
    return due_counters("t", doc["due_on"]) if doc.get("due_on") else []


def stage_unit(doc: Document) -> str | None:
    """Who a stage occurrence is about: its victim, or its case when it covers the case."""
    if doc.get("victim_id"):
        return str(doc["victim_id"])
    return f"case:{doc['case_id']}" if doc.get("case_id") else None
