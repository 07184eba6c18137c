"""Keyed state transitions and appends re-run after a crashed claim: one record, one event."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from ruta_shared.security.principal import Role
from ruta_shared.testing.claims import announced, post_after_crash_raw
from ruta_shared.topics import INTAKE_EVENTS

pytestmark = pytest.mark.integration

CASE: dict[str, Any] = {
    "office": "lima",
    "crime_types": ["trafficking"],
    "arrival_channel": "walk_in",
    "victims": [{"sex": "female", "age_at_intake": 30, "personal_data": {}}],
}
Doc = dict[str, Any]


@dataclass
class Step:
    """The keyed POST to crash and re-run, and how to count what it left."""

    url: str
    body: Any
    status: int
    event_type: str
    count: Callable[[Doc], int]  # the records (or states) the POST made in its document
    subject: str = ""
    collection: str = "cases"
    headers: dict[str, str] = field(default_factory=dict)
    coordinator: bool = False


async def ok(answer: Awaitable[Any]) -> Any:
    """The JSON of a successful answer."""
    response = await answer
    assert response.status_code < 300, response.text
    return response


async def opened(served: Any) -> tuple[str, str, str]:
    """A new case of Lima: its id, its victim's id and its ETag."""
    made = await ok(served.client.post("/cases", json=CASE, headers=served.auth()))
    return made.json()["case_id"], made.json()["victims"][0]["victim_id"], made.headers["ETag"]


async def etag(served: Any, case_id: str) -> str:
    read = await ok(served.client.get(f"/cases/{case_id}", headers=served.auth()))
    return str(read.headers["ETag"])


async def withdrawal(served: Any, case_id: str, victim_id: str, _: str) -> Step:
    body = {"purpose": "data_processing", "given_by": "victim", "granted": True}
    url = f"/cases/{case_id}/victims/{victim_id}/consents"
    consent = (await ok(served.client.post(url, json=body, headers=served.auth()))).json()
    return Step(
        f"/cases/{case_id}/consents/{consent['consent_id']}/withdrawal",
        {},
        200,
        "consent.withdrawn",
        lambda d: sum(c["withdrawn_at"] is not None for c in d["consents"]),
    )


async def status(served: Any, case_id: str, _: str, version: str) -> Step:
    return Step(
        f"/cases/{case_id}/status",
        {"status": "in_care"},
        200,
        "case.status_changed",
        lambda d: int(d["status"] == "in_care"),
        headers={"If-Match": version},
    )


async def close(served: Any, case_id: str, _: str, version: str) -> Step:
    return Step(
        f"/cases/{case_id}/closure",
        {"closure_reason": "reintegrated"},
        200,
        "case.closed",
        lambda d: int(d["status"] == "closed"),
        headers={"If-Match": version},
        coordinator=True,
    )


async def reopen(served: Any, case_id: str, _: str, version: str) -> Step:
    await ok(
        served.client.post(
            f"/cases/{case_id}/closure",
            json={"closure_reason": "reintegrated"},
            headers={**served.auth(Role.COORDINATOR), "If-Match": version},
        )
    )
    return Step(
        f"/cases/{case_id}/reopening",
        {},
        200,
        "case.reopened",
        lambda d: int(d["status"] == "open" and d["reopened_at"] is not None),
        headers={"If-Match": await etag(served, case_id)},
    )


async def closure_request(served: Any, case_id: str, _: str, __: str) -> Step:
    return Step(
        f"/cases/{case_id}/closure-requests",
        {"closure_reason": "reintegrated", "note": "Retomó el colegio."},
        201,
        "case.closure_requested",
        lambda d: len(d.get("closure_requests") or []),
    )


async def pending(served: Any, case_id: str) -> str:
    url = f"/cases/{case_id}/closure-requests"
    body = {"closure_reason": "reintegrated"}
    return str(
        (await ok(served.client.post(url, json=body, headers=served.auth()))).json()["request_id"]
    )


async def approval(served: Any, case_id: str, _: str, __: str) -> Step:
    request_id = await pending(served, case_id)
    return Step(
        f"/cases/{case_id}/closure-requests/{request_id}/approval",
        None,
        200,
        "case.closure_approved",
        lambda d: sum(r["status"] == "approved" for r in d["closure_requests"]),
        coordinator=True,
    )


async def closure_return(served: Any, case_id: str, _: str, __: str) -> Step:
    request_id = await pending(served, case_id)
    return Step(
        f"/cases/{case_id}/closure-requests/{request_id}/return",
        {"comment": "Falta la última visita de seguimiento."},
        200,
        "case.closure_returned",
        lambda d: sum(r["status"] == "returned" for r in d["closure_requests"]),
        coordinator=True,
    )


def project(code: str) -> Doc:
    return {
        "code": code,
        "name": "Trata de personas en la Amazonía peruana",
        "funder": "Fundación de prueba",
        "starts_on": "2014-10-01",
        "ends_on": "2030-06-30",
        "offices": ["lima"],
    }


async def registry(served: Any, _: str, __: str, ___: str) -> Step:
    code = f"RR-{uuid.uuid4().hex[:6].upper()}"
    return Step(
        "/projects",
        project(code),
        201,
        "project.registered",
        lambda d: int(d["_id"] == code),
        subject=code,
        collection="projects",
        coordinator=True,
    )


async def case_project(served: Any, case_id: str, _: str, __: str) -> Step:
    code = f"RC-{uuid.uuid4().hex[:6].upper()}"
    boss = served.auth(Role.COORDINATOR)
    await ok(served.client.post("/projects", json=project(code), headers=boss))
    return Step(
        f"/cases/{case_id}/project",
        {"project_code": code},
        200,
        "case.project_assigned",
        lambda d: int(d["project_code"] == code),
    )


@pytest.mark.parametrize(
    "prepare",
    [
        withdrawal,
        status,
        close,
        reopen,
        closure_request,
        approval,
        closure_return,
        registry,
        case_project,
    ],
)
async def test_a_keyed_post_rerun_after_a_crash_ends_once(
    served: Any, kafka_bootstrap: str, prepare: Callable[..., Awaitable[Step]]
) -> None:
    case_id, victim_id, version = await opened(served)
    step = await prepare(served, case_id, victim_id, version)
    step.subject = step.subject or case_id
    who = served.auth(Role.COORDINATOR) if step.coordinator else served.auth()
    headers = {**who, **step.headers, "Idempotency-Key": f"caida-{uuid.uuid4().hex}"}

    first, retry = await post_after_crash_raw(
        served.client, served.db.idempotency_keys, step.url, step.body, headers
    )
    assert first.status_code == step.status, first.text
    # The re-run answers what the first attempt did (not a 409 or 412 about itself).
    assert retry.status_code == step.status, retry.text
    assert retry.headers.get("ETag") == first.headers.get("ETag")
    for name in ("consent_id", "request_id", "status", "code", "project_code", "version"):
        assert retry.json().get(name) == first.json().get(name), name
    doc = await served.db[step.collection].find_one({"_id": step.subject})
    assert step.count(doc) == 1
    collection = served.db[step.collection]
    events = await announced(
        kafka_bootstrap, INTAKE_EVENTS, collection, step.subject, step.event_type
    )
    assert events == 1
