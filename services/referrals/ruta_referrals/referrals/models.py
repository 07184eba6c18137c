"""API schemas of referrals: what staff and partners send and read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import CareType, DeclineReason, InstitutionKind, Office, Urgency

Direction = Literal["outgoing", "incoming"]


class ReferralCreate(BaseModel):
    """What a case worker sends to refer a victim of a case to (or record one from) an institution.

    `reason` and `shared_facts` are free text: stored encrypted, read through audited routes.
    """

    model_config = ConfigDict(extra="forbid")

    victim_id: str = Field(pattern=ID_PATTERN)
    institution_id: str = Field(pattern=ID_PATTERN)
    direction: Direction = "outgoing"
    reason: str = Field(min_length=1, max_length=2000, description="Motivo de la derivación.")
    services_requested: list[CareType] = Field(default_factory=list, max_length=9)
    urgency: Urgency = "normal"
    due_on: date | None = None
    shared_facts: str | None = Field(
        default=None,
        max_length=5000,
        description="Hechos que el equipo decide compartir con la institución.",
    )
    consent_override_justification: str | None = Field(
        default=None,
        min_length=30,
        max_length=2000,
        description="Solo coordinación: justificación escrita para derivar sin consentimiento.",
    )


class ReferralRead(BaseModel):
    """A referral as staff see it (free text is read through /details)."""

    referral_id: str
    case_id: str
    case_code: str
    office: Office
    victim_id: str
    institution_id: str
    institution_kind: InstitutionKind
    direction: Direction
    services_requested: list[CareType]
    urgency: Urgency
    due_on: date | None
    status: str
    status_label: str
    channel: str | None = None
    consent_override: bool
    created_at: datetime
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: DeclineReason | None = None
    completed_at: datetime | None = None
    revoked_at: datetime | None = None
    deadline_stage: str | None = None
    deadline_at: datetime | None = None
    overdue: bool
    overdue_stage: str | None = None
    overdue_since: datetime | None = None
    has_shared_facts: bool
    version: int


class PartnerReferralRead(BaseModel):
    """A referral as the institution it is addressed to sees it: only what it needs.

    No case code and no intake id: `victim_id` is a pseudonym made for this institution
    alone, and `referral_code` names the referral without office or sequence.
    """

    referral_id: str
    referral_code: str = Field(description="Código de la derivación (sin oficina ni número).")
    victim_id: str = Field(description="Seudónimo de la víctima, propio de esta institución.")
    institution_id: str
    services_requested: list[CareType]
    urgency: Urgency
    due_on: date | None
    status: str
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: DeclineReason | None = None
    completed_at: datetime | None = None
    revoked_at: datetime | None = None
    has_shared_facts: bool
    version: int


class ProgressNoteRead(BaseModel):
    """One progress note (decrypted for an audited read)."""

    note_id: str
    written_at: datetime
    author_role: str
    text: str


class ReferralDetails(BaseModel):
    """The free text of a referral; every read is recorded in the access log."""

    referral_id: str
    reason: str
    shared_facts: str | None
    progress_notes: list[ProgressNoteRead]


class DeclineBody(BaseModel):
    """Why the institution declines (a code; details go in a progress note)."""

    model_config = ConfigDict(extra="forbid")

    reason: DeclineReason


class ProgressNoteCreate(BaseModel):
    """A progress note from the institution or the team (stored encrypted)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)
