"""Figures per project and the donor report, on the real FerretDB through the routes."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from ruta_analytics.figures.models import Filters
from ruta_analytics.figures.service import exact_figures
from ruta_analytics.projection.store import Generation, project
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.testing.fact_oracle import oracle_figures
from ruta_analytics.testing.route_stream import with_routes
from ruta_shared.lima import today_lima
from ruta_shared.security.principal import Role
from ruta_shared.testing.synthetic import chunked, random_stream

pytestmark = pytest.mark.integration

Doc = dict[str, Any]
PROJECT = "DTZ-2016"


async def _projected(generation: Generation, seed: int) -> None:
    rng = random.Random(seed)
    events = with_routes(rng, random_stream(rng, cases=80, years=(2016, 2017), sessions=4))
    for batch in chunked(events, 150):
        await project(generation, batch)


def _headers(token_for: Callable[[Role], str], role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(role)}"}


async def test_exact_figures_per_project_equal_the_facts_and_a_bad_code_is_refused(
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
) -> None:
    _, client = api
    await _projected(generation, 21)
    coordinator = _headers(token_for, Role.COORDINATOR)
    for query in (
        {"project": PROJECT},
        {"project": "SERV-INTEG", "year": 2017},
        {"project": PROJECT, "office": "lima", "crime_type": "trafficking"},
    ):
        got = await client.get("/figures/exact", params=query, headers=coordinator)
        assert got.status_code == 200, got.text
        chosen = Filters(**query)  # type: ignore[arg-type]
        expected = await oracle_figures(generation, chosen, today=today_lima())
        assert got.json() == expected, query
    whole = await exact_figures(generation, Filters())
    part = await exact_figures(generation, Filters(project=PROJECT))
    assert 0 < part["cases_opened"] < whole["cases_opened"]
    for bad in ("dtz-2016", "X", "DTZ_2016"):
        refused = await client.get("/figures/exact", params={"project": bad}, headers=coordinator)
        assert refused.status_code == 422, bad
        assert "project" in refused.text
        assert refused.json()["detail"]  # the Spanish envelope, naming the field
    auditor = _headers(token_for, Role.AUDITOR)
    suppressed = await client.get("/figures", params={"project": PROJECT}, headers=auditor)
    assert suppressed.status_code == 422
    assert "project" in suppressed.text
    assert "solo admite el filtro por año" in suppressed.text


def _csv_tables(body: bytes) -> dict[str, list[list[str]]]:
    """The CSV's tables by title (a title line, rows, a blank line)."""
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
        if not row:
            current = None
        elif current is None:
            current = tables.setdefault(row[0], [])
        else:
            current.append(row)
    return tables


async def test_the_donor_report_is_the_projects_suppressed_tables_for_those_allowed(
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
    settings: AnalyticsSettings,
) -> None:
    _, client = api
    await _projected(generation, 22)
    k = settings.suppression_k
    url = f"/reports/projects/{PROJECT}/2017"
    for role in (Role.TRAINER, Role.CASE_WORKER, Role.PARTNER, Role.ADMIN):
        denied = await client.get(f"{url}/tables.csv", headers=_headers(token_for, role))
        assert denied.status_code == 403, role
    exact = await exact_figures(generation, Filters(year=2017, project=PROJECT), whole=True)
    national = await exact_figures(generation, Filters(year=2017), whole=True)
    assert exact["victims"]["total"] < national["victims"]["total"]
    for role in (Role.COORDINATOR, Role.AUDITOR):
        got = await client.get(f"{url}/tables.csv", headers=_headers(token_for, role))
        assert got.status_code == 200, role
        assert f"ruta-donante-{PROJECT}-2017.csv" in got.headers["content-disposition"]
        tables = _csv_tables(got.content)
        victims = tables[f"Proyecto {PROJECT}. Víctimas atendidas por sexo y grupo de edad, 2017"]
        released = [row[1:-1] for row in victims[1:-1]]
        for shown_row, exact_row in zip(released, exact["victims"]["cells"], strict=True):
            for shown, true in zip(shown_row, exact_row, strict=True):
                assert shown in ("s", str(true))  # hidden, or the exact count
                if 0 < true < k:
                    assert shown == "s"
        assert victims[-1][-1] in ("s", str(exact["victims"]["total"]))
        stages = tables[f"Proyecto {PROJECT}. Etapas de la ruta de atención, 2017"]
        assert stages[0][:3] == ["Etapa", "Iniciadas", "Concluidas"]
        by_label = {row[0]: row for row in stages[1:]}
        for stage in exact["route_stages"]["stages"]:
            row = by_label[stage["label"]]
            assert row[1] in ("s", str(stage["entered"]))
            if 0 < stage["entered"] < k:
                assert row[1] == "s"
            if stage["left"] < k:
                assert row[3] == ""  # no median over fewer than k stays
    book = await client.get(f"{url}/tables.xlsx", headers=_headers(token_for, Role.AUDITOR))
    assert book.status_code == 200
    sheets = load_workbook(io.BytesIO(book.content)).worksheets
    assert sheets[-1]["A1"].value == f"Proyecto {PROJECT}. Etapas de la ruta de atención, 2017"
    for name, fmt, magic in (
        ("route_stages", "png", b"\x89PNG"),
        ("victims_by_sex_and_age", "svg", b"<?xml"),
    ):
        chart = await client.get(
            f"{url}/charts/{name}.{fmt}", headers=_headers(token_for, Role.AUDITOR)
        )
        assert chart.status_code == 200
        assert chart.content.startswith(magic)
    bad = await client.get(
        "/reports/projects/dtz/2017/tables.csv", headers=_headers(token_for, Role.AUDITOR)
    )
    assert bad.status_code == 422
    assert "project" in bad.text


async def test_a_donor_report_is_solved_for_its_project_not_copied_from_the_country(
    generation: Generation,
    api: tuple[FastAPI, httpx.AsyncClient],
    token_for: Callable[[Role], str],
    settings: AnalyticsSettings,
) -> None:
    _, client = api
    await _projected(generation, 23)
    auditor = _headers(token_for, Role.AUDITOR)
    body = await client.get(f"/reports/projects/{PROJECT}/2016/tables.csv", headers=auditor)
    annual = await client.get("/reports/2016/tables.csv", headers=auditor)
    exact = await exact_figures(generation, Filters(year=2016, project=PROJECT), whole=True)
    project_cases = _csv_tables(body.content)[
        f"Proyecto {PROJECT}. Casos y víctimas nuevos por año"
    ]
    national_cases = _csv_tables(annual.content)["Casos y víctimas nuevos por año"]
    assert project_cases != national_cases
    shown = {row[0]: row[1] for row in project_cases[1:]}["2016"]
    true = exact["cases_opened"]
    assert shown in ("s", str(true))
    if 0 < true < settings.suppression_k:
        assert shown == "s"
