"""The protocol pages' reads: a case's stages, plan and closure requests; the approval queue."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ruta_console.auth.models import Session
from ruta_console.calls import call
from ruta_console.protocol.rules import plan_by_victim
from ruta_console.runtime import Runtime
from ruta_console.upstream import Answer, Service


@dataclass(frozen=True)
class ProtocolView:
    """What the case page shows of the protocol: stages, the plan, closure requests."""

    catalogue: dict[str, Any]
    stages: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    closures: list[dict[str, Any]]
    # referrals learns of a case from intake's events: a new case may not be there yet.
    known: bool

    @property
    def pending_closure(self) -> dict[str, Any] | None:
        """The closure request waiting for a coordinator, if any."""
        return next((c for c in self.closures if c["status"] == "pending"), None)


def _items(answer: Answer) -> list[dict[str, Any]]:
    return list(answer.body) if answer.ok and isinstance(answer.body, list) else []


async def read_protocol(
    *, runtime: Runtime, session: Session, case: dict[str, Any]
) -> ProtocolView:
    """The stage catalogue, the case's stages and plan (referrals), its closure requests."""
    case_id = case["case_id"]

    def get(service: Service, path: str) -> Any:
        return call(runtime=runtime, session=session, service=service, method="GET", path=path)

    catalogue, stages, plan, closures = await asyncio.gather(
        get(Service.REFERRALS, "/route-stages"),
        get(Service.REFERRALS, f"/cases/{case_id}/stages"),
        get(Service.REFERRALS, f"/cases/{case_id}/plan"),
        get(Service.INTAKE, f"/cases/{case_id}/closure-requests"),
    )
    ordered = sorted(_items(stages), key=lambda s: (s["entered_on"], s["recorded_at"]))
    return ProtocolView(
        catalogue=catalogue.body if catalogue.ok else {"stages": [], "institution_kinds": {}},
        stages=ordered,
        plan=plan_by_victim(_items(plan), case),
        closures=_items(closures),
        known=stages.ok,
    )


async def approval_queue(*, runtime: Runtime, session: Session) -> list[dict[str, Any]]:
    """Pending closure requests of the coordinator's offices, oldest first."""
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="GET",
        path="/closure-requests",
    )
    return sorted(_items(answer), key=lambda c: c["requested_at"])
