"""Pure referral rules: the status machine, deadlines, overdue detection and the partner's view.

Functions take a referral as stored (a dict embedded in its case's `case_routes` document)
and return the changed copy with the event payloads the change publishes. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from ruta_shared.events import EventData
from ruta_shared.events.catalog.referrals import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralCompleted,
    ReferralDeclined,
    ReferralOverdue,
    ReferralProgressReported,
    ReferralRevoked,
    ReferralSent,
)

Referral = dict[str, Any]
Status = Literal[
    "requested", "sent", "acknowledged", "accepted", "declined", "completed", "revoked"
]
Action = Literal["send", "acknowledge", "accept", "decline", "complete", "revoke", "progress"]
Stage = Literal["acknowledgement", "answer"]

STATUS_LABELS: Final[dict[str, str]] = {
    "requested": "Solicitada",
    "sent": "Enviada",
    "acknowledged": "Recibida por la institución",
    "accepted": "Aceptada",
    "declined": "Rechazada",
    "completed": "Completada",
    "revoked": "Revocada",
}
OPEN_STATUSES: Final = frozenset({"requested", "sent", "acknowledged", "accepted"})
# Which statuses each action may start from.
ALLOWED_FROM: Final[dict[str, frozenset[str]]] = {
    "send": frozenset({"requested"}),
    "acknowledge": frozenset({"sent"}),
    "accept": frozenset({"sent", "acknowledged"}),
    "decline": frozenset({"sent", "acknowledged"}),
    "complete": frozenset({"accepted"}),
    "revoke": OPEN_STATUSES,
    "progress": frozenset({"acknowledged", "accepted"}),
}
# Incoming referrals (an institution referred the victim to us) are never "sent" by us.
ALLOWED_FROM_INCOMING: Final[dict[str, frozenset[str]]] = {
    **ALLOWED_FROM,
    "send": frozenset(),
    "acknowledge": frozenset({"requested"}),
    "accept": frozenset({"requested", "acknowledged"}),
    "decline": frozenset({"requested", "acknowledged"}),
}


class TransitionError(Exception):
    """The action is not possible from the referral's current status."""

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} a referral that is {status}")
        self.action = action
        self.status = status

    @property
    def detail(self) -> str:
        """A Spanish sentence for the caller."""
        label = STATUS_LABELS.get(self.status, self.status).lower()
        return f"No se puede realizar esta acción sobre una derivación en estado «{label}»."


@dataclass(frozen=True)
class Deadlines:
    """Seconds to acknowledge and then to answer, by urgency (from settings)."""

    acknowledgement: Mapping[str, float]
    answer: Mapping[str, float]

    def due(self, stage: Stage, urgency: str, start: datetime) -> datetime:
        """When `stage` is due for a referral of `urgency` whose clock started at `start`."""
        table = self.acknowledgement if stage == "acknowledgement" else self.answer
        return start + timedelta(seconds=table[urgency])


@dataclass(frozen=True)
class Change:
    """A referral after an action, and the event payloads to publish with it."""

    referral: Referral
    payloads: list[EventData]


def event_fields(referral: Referral, *, case_id: str, office: str) -> dict[str, Any]:
    """The fields every referral event carries (ids and codes only)."""
    return {
        "case_id": case_id,
        "referral_id": referral["referral_id"],
        "victim_id": referral["victim_id"],
        "institution_id": referral["institution_id"],
        "institution_kind": referral["institution_kind"],
        "office": office,
    }


def apply_action(
    referral: Referral,
    action: Action,
    *,
    now: datetime,
    deadlines: Deadlines,
    case_id: str,
    office: str,
    channel: str | None = None,
    decline_reason: str | None = None,
) -> Change:
    """The referral after `action` at `now`; TransitionError when the status forbids it."""
    status = referral["status"]
    allowed = ALLOWED_FROM_INCOMING if referral["direction"] == "incoming" else ALLOWED_FROM
    if status not in allowed[action]:
        raise TransitionError(action, status)
    common = event_fields(referral, case_id=case_id, office=office)
    outgoing = referral["direction"] == "outgoing"
    updated = {**referral, "version": int(referral["version"]) + 1, "updated_at": now}
    payloads: list[EventData] = []

    def acknowledge() -> None:
        updated["status"] = "acknowledged"
        updated["acknowledged_at"] = now
        payloads.append(ReferralAcknowledged(**common, acknowledged_at=now))
        _set_deadline(updated, "answer" if outgoing else None, now, deadlines)

    if action == "send":
        updated.update(status="sent", sent_at=now, channel=channel or "manual")
        payloads.append(ReferralSent(**common, channel=updated["channel"], sent_at=now))
        _set_deadline(updated, "acknowledgement", now, deadlines)
    elif action == "acknowledge":
        acknowledge()
    elif action in ("accept", "decline"):
        if status in ("sent", "requested"):
            acknowledge()  # answering implies receipt: the timeline keeps both steps
        if action == "accept":
            updated.update(status="accepted", accepted_at=now)
            payloads.append(ReferralAccepted(**common, accepted_at=now))
        else:
            if decline_reason is None:
                msg = "a decline needs a reason"
                raise ValueError(msg)
            updated.update(status="declined", declined_at=now, decline_reason=decline_reason)
            payloads.append(ReferralDeclined(**common, reason=decline_reason, declined_at=now))
        _set_deadline(updated, None, now, deadlines)
    elif action == "complete":
        updated.update(status="completed", completed_at=now)
        payloads.append(ReferralCompleted(**common, completed_at=now))
    elif action == "revoke":
        updated.update(status="revoked", revoked_at=now)
        payloads.append(ReferralRevoked(**common, revoked_at=now))
        _set_deadline(updated, None, now, deadlines)
    else:  # progress: no status change, but the timeline records that progress was reported
        payloads.append(ReferralProgressReported(**common, reported_at=now))
    return Change(updated, payloads)


def _set_deadline(
    referral: Referral, stage: Stage | None, start: datetime, deadlines: Deadlines
) -> None:
    """Start the next stage's clock (or stop it); a stage that moved on is not overdue."""
    referral["overdue_stage"] = None
    referral["overdue_since"] = None
    if stage is None:
        referral["deadline_stage"] = None
        referral["deadline_at"] = None
        return
    referral["deadline_stage"] = stage
    referral["deadline_at"] = deadlines.due(stage, referral["urgency"], start)


def overdue_change(
    referral: Referral, *, now: datetime, case_id: str, office: str
) -> Change | None:
    """The referral marked overdue when its current stage's deadline passed, else None.

    The deadline is cleared in the same change, so each stage is reported overdue once.
    """
    due_at = referral.get("deadline_at")
    stage = referral.get("deadline_stage")
    if due_at is None or stage is None or due_at > now:
        return None
    if referral["status"] not in ("sent", "acknowledged"):
        return None
    updated = {
        **referral,
        "deadline_at": None,
        "overdue_stage": stage,
        "overdue_since": now,
        "overdue_due_at": due_at,
        "overdue_stages": [*referral.get("overdue_stages", []), stage],
    }
    payload = ReferralOverdue(
        **event_fields(referral, case_id=case_id, office=office),
        stage=stage,
        due_at=due_at,
        detected_at=now,
    )
    return Change(updated, [payload])


def is_overdue(referral: Referral) -> bool:
    """Whether the referral is waiting on an institution past its deadline."""
    return referral.get("overdue_stage") is not None and referral["status"] in (
        "sent",
        "acknowledged",
    )


PARTNER_FIELDS: Final = (
    "referral_id",
    "victim_id",
    "institution_id",
    "services_requested",
    "urgency",
    "due_on",
    "status",
    "sent_at",
    "acknowledged_at",
    "accepted_at",
    "declined_at",
    "decline_reason",
    "completed_at",
    "revoked_at",
    "version",
)


def partner_view(referral: Referral, *, case_code: str) -> dict[str, Any]:
    """What the institution a referral is addressed to may see (no office, no internal ids)."""
    view = {name: referral.get(name) for name in PARTNER_FIELDS}
    view["case_code"] = case_code
    view["has_shared_facts"] = referral.get("shared_facts") is not None
    return view


def visible_to_partner(referral: Referral, institution_id: str) -> bool:
    """A partner sees outgoing referrals addressed to it, once they were sent."""
    return (
        referral["institution_id"] == institution_id
        and referral["direction"] == "outgoing"
        and referral.get("sent_at") is not None
    )
