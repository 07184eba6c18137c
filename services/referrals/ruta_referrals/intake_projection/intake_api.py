"""Asks intake's HTTP API, as the caller, for a case's facts the projection has not caught up on.

Intake's events reach referrals a moment after intake answered its user; a referral, a
return home or a milestone made in that moment asks intake itself (the owner's API, as
the architecture allows where a user needs an answer at once), with the caller's own
bearer token, so intake's own office scope applies. Nothing learnt this way is written
into the projection but the case's route document (its code and office never change):
the events stay the one source of victims and consent, so a later withdrawal is never
overwritten by an older answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from fastapi import HTTPException

from ruta_referrals.intake_projection.rules import case_facts

log = logging.getLogger(__name__)

UNAVAILABLE: Final = (
    "No se pudo confirmar el caso con el servicio de admisión: vuelva a intentarlo en unos "
    "segundos."
)

Document = dict[str, Any]


def intake_unavailable(retry_after: int) -> HTTPException:
    """The 503 answered when intake cannot be asked (never a 404 or 409 we cannot know)."""
    return HTTPException(
        status_code=503,
        detail={"detail": UNAVAILABLE, "code": "intake_unavailable"},
        headers={"Retry-After": str(retry_after)},
    )


@dataclass
class IntakeLookup:
    """One request's access to intake's API with the caller's credentials (asked at most once)."""

    client: httpx.AsyncClient
    authorization: str | None
    retry_after: int
    _answers: dict[str, Document | None] = field(default_factory=dict)

    async def project(self, code: str) -> Document | None:
        """Intake's registry entry of a project (code, offices, ...); None when 404."""
        if self.authorization is None:
            return None
        try:
            response = await self.client.get(
                f"/projects/{code}", headers={"Authorization": self.authorization}
            )
        except httpx.HTTPError as exc:
            log.warning("intake unreachable", extra={"error": type(exc).__name__})
            raise intake_unavailable(self.retry_after) from None
        if response.status_code in (403, 404, 422):
            return None
        if response.status_code != 200:
            log.warning("intake answered an error", extra={"status": response.status_code})
            raise intake_unavailable(self.retry_after)
        found: Document = response.json()
        return found

    async def case(self, case_id: str) -> Document | None:
        """Intake's facts of a case the caller may see (`rules.case_facts`); None when 404."""
        if case_id in self._answers:
            return self._answers[case_id]
        if self.authorization is None:
            return None  # partner credentials never read intake's cases
        try:
            response = await self.client.get(
                f"/cases/{case_id}", headers={"Authorization": self.authorization}
            )
        except httpx.HTTPError as exc:
            log.warning("intake unreachable", extra={"error": type(exc).__name__})
            raise intake_unavailable(self.retry_after) from None
        if response.status_code in (403, 404):
            facts = None  # not there, or not for this caller: the same answer as ours
        elif response.status_code == 200:
            facts = case_facts(response.json())
        else:
            log.warning("intake answered an error", extra={"status": response.status_code})
            raise intake_unavailable(self.retry_after)
        self._answers[case_id] = facts
        return facts
