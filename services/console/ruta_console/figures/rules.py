"""Pure rules of the figure pages: the filters a user may set, and bar charts as SVG geometry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ruta_console.rules import compact

CHARTS: Final = {
    "victims_by_sex_and_age": "Víctimas por sexo y grupo de edad",
    "cases_and_victims_per_year": "Casos y víctimas por año",
    "referrals_by_institution": "Derivaciones por institución",
    "training_by_audience": "Personas capacitadas por público",
}
# A donor report's charts: the annual report's, and the route of care's stages.
DONOR_CHARTS: Final = {**CHARTS, "route_stages": "Etapas de la ruta de atención"}
BAR_HEIGHT: Final = 22
LABEL_WIDTH: Final = 190
CHART_WIDTH: Final = 560


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart."""

    label: str
    value: int | None
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart drawn server-side (no script, no library)."""

    title: str
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    width: int = CHART_WIDTH


def figure_filters(query: Mapping[str, str | None]) -> dict[str, Any]:
    """The analytics query from the page's filters (the service checks each value)."""
    return compact(
        {
            "year": query.get("anio"),
            "month": query.get("mes"),
            "office": query.get("oficina"),
            "region": query.get("region"),
            "crime_type": query.get("delito"),
        }
    )


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int | None]) -> Chart:
    """Bars scaled to the largest value; a suppressed value (None) draws no bar."""
    top = max([v for v in values if v is not None] or [0]) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 50
    bars = [
        Bar(str(label), value, index * (BAR_HEIGHT + 6), int(span * (value or 0) / top))
        for index, (label, value) in enumerate(zip(labels, values, strict=True))
    ]
    return Chart(title, bars, max(len(bars), 1) * (BAR_HEIGHT + 6))


def vector_chart(title: str, vector: Mapping[str, Any]) -> Chart:
    """A chart of a one-way table from analytics ({labels, values})."""
    return bar_chart(title, vector.get("labels") or [], vector.get("values") or [])


def charts(figures: Mapping[str, Any]) -> list[Chart]:
    """The page's charts: victims by age group, per year, care, referrals, training."""
    victims = figures.get("victims") or {}
    per_year = figures.get("per_year") or []
    return [
        bar_chart(
            "Víctimas por grupo de edad",
            victims.get("column_labels") or [],
            victims.get("column_totals") or [],
        ),
        bar_chart(
            "Víctimas por año",
            [str(row["year"]) for row in per_year],
            [row.get("victims") for row in per_year],
        ),
        vector_chart("Atenciones por tipo", (figures.get("care") or {}).get("by_type") or {}),
        vector_chart(
            "Víctimas derivadas por institución",
            (figures.get("referrals") or {}).get("victims_by_institution") or {},
        ),
        vector_chart(
            "Personas capacitadas por público",
            (figures.get("training") or {}).get("by_audience") or {},
        ),
    ]
