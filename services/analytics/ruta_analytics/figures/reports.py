"""The annual report's tables for any year, and a project's donor report for a year, as CSV
and XLSX, and their charts as PNG or SVG.

Reports are built from the suppressed figures (every export is): hidden cells show "s". A
donor report has the annual report's tables for the project's facts, titled with its code,
and the route-of-care stages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")  # no display on servers; set before pyplot is imported

import matplotlib.pyplot as plt
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from ruta_analytics.figures.suppression import SUPPRESSED_MARK

Document = dict[str, Any]
Cell = str | int | float | None
Rows = list[list[Cell]]

CHARTS: Final[dict[str, str]] = {
    "victims_by_sex_and_age": "Víctimas por sexo y grupo de edad",
    "cases_and_victims_per_year": "Casos y víctimas nuevos por año",
    "referrals_by_institution": "Derivaciones por tipo de institución",
    "training_by_audience": "Personas capacitadas por público",
    "route_stages": "Etapas de la ruta de atención iniciadas",
}
FORMATS: Final = {"png": "image/png", "svg": "image/svg+xml"}


def _v(value: Cell) -> Cell:
    return SUPPRESSED_MARK if value is None else value


def report_tables(
    figures: Document, year: int, project: str | None = None
) -> Iterator[tuple[str, Rows]]:
    """The report's tables as (title, rows), first row the header (`project`: the donor
    report of that project, with the route-of-care stages)."""
    if project is not None:
        for title, rows in _annual_tables(figures, year):
            yield f"Proyecto {project}. {title}", rows
        yield f"Proyecto {project}. Etapas de la ruta de atención, {year}", _stage_rows(figures)
        return
    yield from _annual_tables(figures, year)


def _stage_rows(figures: Document) -> Rows:
    route = figures["route_stages"]
    rows: Rows = [
        ["Etapa", "Iniciadas", "Concluidas", "Mediana (días)", "Percentil 90 (días)", "Víctimas"]
    ]
    for stage in route["stages"]:
        rows.append(
            [
                stage["label"],
                _v(stage["entered"]),
                _v(stage["left"]),
                stage["median_days"],
                stage["p90_days"],
                _v(stage["victims"]),
            ]
        )
    rows.append(["Víctimas con alguna etapa", _v(route["victims"])])
    rows.append(["Etapas por víctima", route["stages_per_victim"]])
    rows.append(["Etapas vencidas hoy", _v(route["overdue_stages_now"])])
    rows.append(["Tareas del plan vencidas hoy", _v(route["overdue_tasks_now"])])
    return rows


def _annual_tables(figures: Document, year: int) -> Iterator[tuple[str, Rows]]:
    victims = figures["victims"]
    rows: Rows = [["Sexo", *victims["column_labels"], "Total"]]
    for i, label in enumerate(victims["row_labels"]):
        rows.append([label, *(_v(c) for c in victims["cells"][i]), _v(victims["row_totals"][i])])
    rows.append(["Total", *(_v(c) for c in victims["column_totals"]), _v(victims["total"])])
    yield f"Víctimas atendidas por sexo y grupo de edad, {year}", rows

    rows = [["Año", "Casos nuevos", "Crecimiento (%)", "Víctimas nuevas", "Crecimiento (%)"]]
    for row in figures["per_year"]:
        rows.append(
            [
                row["year"],
                _v(row["cases"]),
                row["cases_growth_pct"],
                _v(row["victims"]),
                row["victims_growth_pct"],
            ]
        )
    yield "Casos y víctimas nuevos por año", rows

    referrals = figures["referrals"]["by_institution_and_outcome"]
    rows = [["Institución", *referrals["column_labels"], "Total"]]
    for i, label in enumerate(referrals["row_labels"]):
        rows.append(
            [label, *(_v(c) for c in referrals["cells"][i]), _v(referrals["row_totals"][i])]
        )
    rows.append(["Total", *(_v(c) for c in referrals["column_totals"]), _v(referrals["total"])])
    yield f"Derivaciones por tipo de institución y resultado, {year}", rows

    training = figures["training"]
    rows = [["Público", "Personas"]]
    audience = training["by_audience"]
    rows += [
        [label, _v(v)] for label, v in zip(audience["labels"], audience["values"], strict=True)
    ]
    rows.append(["Total", _v(audience["total"])])
    rows.append(["Sesiones realizadas", training["sessions_held"]])
    rows.append(["Personal de CAR capacitado", _v(training["car_staff"])])
    rows.append(["Ganancia promedio en la prueba (puntos)", training["average_test_gain"]])
    yield f"Alcance de las capacitaciones, {year}", rows


def footnote(k: int) -> str:
    """The note under every exported table."""
    return (
        f"{SUPPRESSED_MARK}: dato reservado (menos de {k} personas, o permitiría deducir uno). "
        "Años y meses en hora de Lima."
    )


def to_csv(
    figures: Document, year: int, k: int, anchor: str | None = None, project: str | None = None
) -> bytes:
    """All tables in one CSV (a title line before each table, a blank line after)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for title, rows in report_tables(figures, year, project):
        writer.writerow([title])
        writer.writerows(rows)
        writer.writerow([])
    writer.writerow([footnote(k)])
    if anchor:  # the year's audit checkpoint root (see audit.service.annual_anchor)
        writer.writerow([anchor])
    return buffer.getvalue().encode("utf-8-sig")  # BOM: spreadsheet apps read the accents


def to_xlsx(
    figures: Document, year: int, k: int, anchor: str | None = None, project: str | None = None
) -> bytes:
    """One sheet per table, each with a bar chart of its first data column."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for index, (title, rows) in enumerate(report_tables(figures, year, project), start=1):
        sheet = workbook.create_sheet(f"Tabla {index}")
        sheet.append([title])
        sheet["A1"].font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        sheet.append([])
        sheet.append([footnote(k)])
        if anchor:
            sheet.append([anchor])
        data_rows = len(rows) - 1
        if data_rows > 0 and len(rows[0]) > 1:
            chart = BarChart()
            chart.title = title
            data = Reference(sheet, min_col=2, min_row=2, max_row=2 + data_rows)
            categories = Reference(sheet, min_col=1, min_row=3, max_row=2 + data_rows)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(categories)
            sheet.add_chart(chart, f"{chr(ord('A') + len(rows[0]) + 1)}2")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def chart(figures: Document, name: str, year: int, fmt: str, project: str | None = None) -> bytes:
    """One of the report's charts (suppressed values are left out and noted)."""
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        labels, series = _chart_series(figures, name)
        width = 0.8 / max(len(series), 1)
        for offset, (legend, values) in enumerate(series):
            positions = [i + offset * width for i in range(len(labels))]
            axes.bar(positions, [v or 0 for v in values], width=width, label=legend)
        axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))])
        axes.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
        whose = f"Proyecto {project}: " if project is not None else ""
        axes.set_title(f"{whose}{CHARTS[name]} ({year})")
        if len(series) > 1:
            axes.legend()
        figure.text(0.01, 0.01, "Datos reservados se muestran en 0.", fontsize=7)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt)
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _chart_series(figures: Document, name: str) -> tuple[list[str], list[tuple[str, list[Any]]]]:
    if name == "victims_by_sex_and_age":
        victims = figures["victims"]
        return victims["row_labels"], [
            (label, [row[j] for row in victims["cells"]])
            for j, label in enumerate(victims["column_labels"])
        ]
    if name == "cases_and_victims_per_year":
        years = figures["per_year"]
        return [str(r["year"]) for r in years], [
            ("Casos", [r["cases"] for r in years]),
            ("Víctimas", [r["victims"] for r in years]),
        ]
    if name == "referrals_by_institution":
        referrals = figures["referrals"]["by_institution_and_outcome"]
        return [label[:30] for label in referrals["row_labels"]], [
            ("Derivaciones", referrals["row_totals"])
        ]
    if name == "route_stages":
        stages = figures["route_stages"]["stages"]
        return [stage["label"][:30] for stage in stages], [
            ("Iniciadas", [stage["entered"] for stage in stages]),
            ("Concluidas", [stage["left"] for stage in stages]),
        ]
    audience = figures["training"]["by_audience"]
    return [label[:30] for label in audience["labels"]], [("Personas", audience["values"])]
