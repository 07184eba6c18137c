"""The leak checker catches a canary planted in each channel, and passes when all are clean."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, generate_latest
from ruta_shared.testing.leak_check import LeakChecker, new_canary_person

log = logging.getLogger("ruta.test.leak")


def test_canaries_are_unique_and_ascii() -> None:
    first, second = new_canary_person(), new_canary_person()
    assert first.full_name != second.full_name
    for value in first.fields().values():
        assert value.isascii()
    needles = first.needles()
    assert needles["document_number (normalised)"] == first.document_number.replace("-", "")
    assert len(needles["phone (digits)"]) == 9


def test_clean_text_passes() -> None:
    leaks = LeakChecker()
    leaks.new_person()
    leaks.scan_logs('{"message": "case opened", "case_id": "c-1"}')
    leaks.scan_metrics('ruta_http_requests_total{route="/cases/{case_id}"} 1.0')
    leaks.assert_clean()


def test_logs_leak_is_caught_in_any_case() -> None:
    leaks = LeakChecker()
    person = leaks.new_person()
    with leaks.capture_logs():
        log.info("registered", extra={"who": person.family_names.upper()})
    with pytest.raises(AssertionError, match="logs \\[captured logs\\]: person 1 family_names"):
        leaks.assert_clean()


def test_logs_clean_pass() -> None:
    leaks = LeakChecker()
    leaks.new_person()
    with leaks.capture_logs() as captured:
        log.info("registered", extra={"victim_id": "v-1"})
    assert "registered" in captured.getvalue()
    leaks.assert_clean()


def test_metrics_leak_is_caught() -> None:
    leaks = LeakChecker()
    person = leaks.new_person()
    registry = CollectorRegistry()
    counter = Counter("ruta_test_total", "t", ["label"], registry=registry)
    counter.labels(person.document_number.replace("-", "")).inc()
    leaks.scan_metrics(generate_latest(registry).decode())
    with pytest.raises(AssertionError, match=r"metrics .*document_number \(normalised\)"):
        leaks.assert_clean()


async def test_error_response_leak_is_caught_and_clean_errors_pass() -> None:
    app = FastAPI()

    @app.get("/leaky/{name}")
    async def leaky(name: str) -> JSONResponse:
        return JSONResponse({"detail": f"no existe {name}"}, status_code=404)

    @app.get("/clean")
    async def clean() -> JSONResponse:
        return JSONResponse({"detail": "No encontrado."}, status_code=404)

    leaks = LeakChecker()
    person = leaks.new_person()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://t",
        event_hooks={"response": [leaks.record_response]},
    ) as client:
        await client.get("/clean")
        leaks.assert_clean()
        await client.get(f"/leaky/{person.given_names.split()[0]}")
    with pytest.raises(AssertionError) as caught:
        leaks.assert_clean()
    assert "error responses [GET /leaky/" in str(caught.value)
    assert "urls [GET /leaky/" in str(caught.value)
