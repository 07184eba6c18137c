"""Pure referral rules: the status machine, deadlines, overdue detection, consent and views.

Functions take a referral as stored (a dict embedded in its case's `case_routes` document)
and return the changed copy with the event payloads the change publishes. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from ruta_shared.aggregate import RuleViolationError
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
from ruta_shared.security.crypto import SubjectKey
from ruta_shared.security.permissions import OFFICE_SCOPE, in_office_scope
from ruta_shared.security.principal import Principal

from ruta_referrals.intake_projection.rules import consent_allows
from ruta_referrals.referrals.models import ReferralCreate, ReferralRead

Referral = dict[str, Any]
Document = dict[str, Any]
Visible = Callable[[Document, Referral], bool]
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


def transition_refused(action: str, status: str) -> RuleViolationError:
    """The 409 of an action the referral's current status does not allow (Spanish, no field)."""
    label = STATUS_LABELS.get(status, status).lower()
    return RuleViolationError(
        None,
        f"No se puede realizar esta acción sobre una derivación en estado «{label}».",
        status_code=409,
        extra={"status": status},
    )


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
class ReferralChange:
    """A referral after an action, and the event payloads to publish with it."""

    referral: Referral
    payloads: list[EventData]


def reason_field(referral_id: str) -> str:
    """The encryption field name of a referral's reason (binds the ciphertext to it)."""
    return f"referral.{referral_id}.reason"


def facts_field(referral_id: str) -> str:
    """The encryption field name of a referral's shared facts."""
    return f"referral.{referral_id}.shared_facts"


def note_field(referral_id: str, note_id: str) -> str:
    """The encryption field name of one progress note."""
    return f"referral.{referral_id}.note.{note_id}"


def override_field(referral_id: str) -> str:
    """The encryption field name of a consent override's justification."""
    return f"referral.{referral_id}.override_justification"


def find_referral(case: Document, referral_id: str) -> Referral | None:
    """The referral of `case` with this id (a copy)."""
    for referral in case.get("referrals") or []:
        if referral["referral_id"] == referral_id:
            return dict(referral)
    return None


def replace_referral(case: Document, updated: Referral) -> list[Referral]:
    """The case's referrals with one replaced."""
    return [
        updated if r["referral_id"] == updated["referral_id"] else r
        for r in case.get("referrals") or []
    ]


def new_referral(
    body: ReferralCreate,
    *,
    referral_id: str,
    institution: Document,
    principal: Principal,
    now: datetime,
    key: SubjectKey,
    override: bool,
) -> Referral:
    """A new referral as stored, its free text encrypted with the victim's key."""
    referral: Referral = {
        "referral_id": referral_id,
        "victim_id": body.victim_id,
        "institution_id": institution["_id"],
        "institution_kind": institution["kind"],
        "direction": body.direction,
        "services_requested": list(body.services_requested),
        "urgency": body.urgency,
        "due_on": body.due_on.isoformat() if body.due_on else None,
        "reason": key.encrypt(reason_field(referral_id), body.reason),
        "shared_facts": key.encrypt_optional(facts_field(referral_id), body.shared_facts),
        "status": "requested",
        "version": 1,
        "created_at": now,
        "created_by": principal.id,
        "consent_override": None,
        "deadline_stage": None,
        "deadline_at": None,
        "overdue_stage": None,
        "overdue_stages": [],
        "progress_notes": [],
    }
    justification = body.consent_override_justification
    if override and justification is not None:
        referral["consent_override"] = {
            "granted_by": principal.id,
            "role": principal.role.value,
            "granted_at": now,
            "justification": key.encrypt(override_field(referral_id), justification),
        }
    return referral


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
) -> ReferralChange:
    """The referral after `action` at `now`; a 409 RuleViolationError when its status forbids it."""
    status = referral["status"]
    allowed = ALLOWED_FROM_INCOMING if referral["direction"] == "incoming" else ALLOWED_FROM
    if status not in allowed[action]:
        raise transition_refused(action, status)
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
    return ReferralChange(updated, payloads)


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
) -> ReferralChange | None:
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
    return ReferralChange(updated, [payload])


def is_overdue(referral: Referral) -> bool:
    """Whether the referral is waiting on an institution past its deadline."""
    return referral.get("overdue_stage") is not None and referral["status"] in (
        "sent",
        "acknowledged",
    )


def consent_gate(*, consented: bool, justification: str | None, override_allowed: bool) -> bool:
    """Whether a new referral overrides missing consent; refused when it may not."""
    if justification is not None and not override_allowed:
        raise RuleViolationError(
            None,
            "Solo coordinación puede autorizar una derivación sin consentimiento.",
            status_code=403,
        )
    if not consented and justification is None:
        raise RuleViolationError(
            None,
            "La víctima no dio su consentimiento para comunicar datos a este tipo de "
            "institución. Registre el consentimiento o pida a coordinación una excepción "
            "justificada.",
            status_code=409,
            code="consent_required",
        )
    return justification is not None and not consented


def require_send_consent(referral: Referral, victim: Document) -> None:
    """Refuse to send without consent: it may have been withdrawn since the referral was drafted."""
    if not referral.get("consent_override") and not consent_allows(
        victim, referral["institution_kind"]
    ):
        raise RuleViolationError(
            None,
            "La víctima ya no consiente comunicar datos a este tipo de institución.",
            status_code=409,
            code="consent_required",
        )


def to_staff_read(case: Document, referral: Referral) -> ReferralRead:
    """The staff view of a stored referral."""
    return ReferralRead(
        referral_id=referral["referral_id"],
        case_id=case["_id"],
        case_code=case["case_code"],
        office=case["office"],
        victim_id=referral["victim_id"],
        institution_id=referral["institution_id"],
        institution_kind=referral["institution_kind"],
        direction=referral["direction"],
        services_requested=referral["services_requested"],
        urgency=referral["urgency"],
        due_on=referral.get("due_on"),
        status=referral["status"],
        status_label=STATUS_LABELS[referral["status"]],
        channel=referral.get("channel"),
        consent_override=referral.get("consent_override") is not None,
        created_at=referral["created_at"],
        sent_at=referral.get("sent_at"),
        acknowledged_at=referral.get("acknowledged_at"),
        accepted_at=referral.get("accepted_at"),
        declined_at=referral.get("declined_at"),
        decline_reason=referral.get("decline_reason"),
        completed_at=referral.get("completed_at"),
        revoked_at=referral.get("revoked_at"),
        deadline_stage=referral.get("deadline_stage"),
        deadline_at=referral.get("deadline_at"),
        overdue=is_overdue(referral),
        overdue_stage=referral.get("overdue_stage"),
        overdue_since=referral.get("overdue_since"),
        has_shared_facts=referral.get("shared_facts") is not None,
        version=referral["version"],
    )


def staff_visible(principal: Principal) -> Visible:
    """A visibility check: the case's office is within the caller's scope."""

    def check(case: Document, _referral: Referral) -> bool:
        return in_office_scope(principal, case["office"])

    return check


def office_query(principal: Principal, office: str | None = None) -> Document:
    """The Mongo filter of the cases the caller may see (only `office`'s when given)."""
    if OFFICE_SCOPE.get(principal.role) == "all":  # coordinators: every office
        return {} if office is None else {"office": office}
    offices = sorted(principal.offices)
    if office is not None:  # another office than the caller's: nothing, like an empty one
        offices = [office] if office in principal.offices else []
    return {"office": {"$in": offices}}
