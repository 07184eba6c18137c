"""The victim page's reads: the victim in its case, her care, route and the institutions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ruta_console.auth.models import Session
from ruta_console.calls import call
from ruta_console.errors import RefusedError
from ruta_console.runtime import Runtime
from ruta_console.upstream import Answer, Service


@dataclass(frozen=True)
class VictimView:
    """Everything the victim page shows (personal data only when asked for, on purpose)."""

    case: dict[str, Any]
    victim: dict[str, Any]
    number: int
    relatives: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    care: list[dict[str, Any]]
    referrals: list[dict[str, Any]]
    returns: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    institutions: list[dict[str, Any]]


async def read_victim(
    *, runtime: Runtime, session: Session, case_id: str, victim_id: str
) -> VictimView:
    """The victim's case (scope-checked by intake), care, route and the institutions."""

    def get(service: Service, path: str, **params: Any) -> Any:
        return call(
            runtime=runtime,
            session=session,
            service=service,
            method="GET",
            path=path,
            params=params,
        )

    case_answer, care_answer, route_answer, institutions_answer = await asyncio.gather(
        get(Service.INTAKE, f"/cases/{case_id}"),
        get(Service.INTAKE, f"/cases/{case_id}/care", victim_id=victim_id, limit=100),
        get(Service.REFERRALS, f"/cases/{case_id}/route"),
        get(Service.REFERRALS, "/institutions", limit=100),
    )
    if not case_answer.ok:
        raise RefusedError(case_answer)
    case = case_answer.body
    victims = case["victims"]
    numbers = [index for index, v in enumerate(victims, 1) if v["victim_id"] == victim_id]
    if not numbers:
        raise RefusedError(Answer(404, None, case_answer.headers, b""))
    route = route_answer.body if route_answer.ok else {}

    def hers(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item for item in items if item.get("victim_id") == victim_id]

    return VictimView(
        case=case,
        victim=victims[numbers[0] - 1],
        number=numbers[0],
        relatives=hers(case.get("relatives") or []),
        consents=hers(case.get("consents") or []),
        care=care_answer.body["items"] if care_answer.ok else [],
        referrals=hers(route.get("referrals") or []),
        returns=hers(route.get("returns") or []),
        milestones=hers(route.get("milestones") or []),
        institutions=[
            i for i in (institutions_answer.body or {}).get("items", []) if i.get("active", True)
        ]
        if institutions_answer.ok
        else [],
    )
