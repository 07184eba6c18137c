"""Security events: personal-data reads, break-the-glass grants, accounts (never the data).

They are published by whichever service served the read or granted the access, through
that service's outbox: `for_source("training")` gives the payload class bound to that
service's topic. The registered class (source "intake", the main reader of personal data)
is what consumers decode into; `envelope.source` says which service published it.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import ClassVar, Literal, TypeVar

from pydantic import Field

from ruta_shared.events.envelope import EventData
from ruta_shared.events.registry_default import EVENTS
from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import Office

FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"

SubjectType = Literal["victim", "relative", "participant", "case"]
AccessPurpose = Literal[
    "case_work",
    "care",
    "legal_aid",
    "referral",
    "return_home",
    "reintegration",
    "supervision",
    "consent_review",
    "training",
    "duplicate_check",
    "break_glass",
    "data_subject_request",
]

P = TypeVar("P", bound=EventData)


@EVENTS.register
class PiiAccessed(EventData):
    """Someone read a person's decrypted personal data (which fields, why; not the values)."""

    event_type: ClassVar[str] = "pii.accessed"
    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"

    access_id: str = Field(pattern=ID_PATTERN)
    subject_type: SubjectType
    subject_id: str = Field(pattern=ID_PATTERN, description="Pseudonymous id of the person.")
    case_id: str | None = Field(default=None, pattern=ID_PATTERN)
    purpose: AccessPurpose
    fields: list[str] = Field(min_length=1, max_length=50, description="Field names read.")
    accessed_at: datetime
    break_glass_grant_id: str | None = Field(default=None, pattern=ID_PATTERN)


@EVENTS.register
class BreakGlassGranted(EventData):
    """A user got time-limited access to a case outside their scope, with a justification."""

    event_type: ClassVar[str] = "access.break_glass_granted"
    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"

    grant_id: str = Field(pattern=ID_PATTERN)
    case_id: str = Field(pattern=ID_PATTERN)
    office: Office
    granted_at: datetime
    expires_at: datetime
    justification_length: int = Field(ge=1, description="The text stays encrypted in the service.")


@cache
def for_source(model: type[P], source: str) -> type[P]:
    """The payload class `model` published by `source` (same fields, that service's topic)."""
    if source == model.source:
        return model
    bound: type[P] = type(f"{model.__name__}From{source.title()}", (model,), {"source": source})
    return bound


# Accounts of Ruta's own issuer (published by intake, where the issuer runs). The subject is
# the account's id; usernames never appear, only ids, roles, offices and institutions.
AccountRole = Literal["case_worker", "coordinator", "trainer", "auditor", "admin", "partner"]


class AccountEvent(EventData):
    """What every account event carries: the account's id (also the event's subject)."""

    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"

    user_id: str = Field(pattern=ID_PATTERN)


class AccountAccessEvent(AccountEvent):
    """An account event that states the account's role, offices and institution."""

    role: AccountRole
    offices: list[Office] = Field(max_length=50)
    institution_id: str | None = Field(default=None, pattern=ID_PATTERN)


@EVENTS.register
class AccountCreated(AccountAccessEvent):
    """An account was created (by an administrator, or by the first-admin command)."""

    event_type: ClassVar[str] = "account.created"

    created_at: datetime


@EVENTS.register
class AccountAccessChanged(AccountAccessEvent):
    """An administrator changed an account's role, offices or institution (its tokens end)."""

    event_type: ClassVar[str] = "account.access_changed"

    previous_role: AccountRole
    previous_offices: list[Office] = Field(max_length=50)
    previous_institution_id: str | None = Field(default=None, pattern=ID_PATTERN)
    changed_at: datetime


@EVENTS.register
class AccountDisabled(AccountEvent):
    """An administrator disabled an account: it cannot log in and its tokens stop working."""

    event_type: ClassVar[str] = "account.disabled"

    disabled_at: datetime


@EVENTS.register
class AccountEnabled(AccountEvent):
    """An administrator enabled a disabled account again."""

    event_type: ClassVar[str] = "account.enabled"

    enabled_at: datetime


@EVENTS.register
class AccountPasswordCodeIssued(AccountEvent):
    """An administrator got a one-time code for the owner to set a password (a reset)."""

    event_type: ClassVar[str] = "account.password_code_issued"

    issued_at: datetime
    expires_at: datetime


@EVENTS.register
class AccountPasswordSet(AccountEvent):
    """The account's owner set a new password with a one-time code (its tokens end)."""

    event_type: ClassVar[str] = "account.password_set"

    set_at: datetime


# Partner institutions' machine credentials (published by intake, where administrators
# manage them). The subject is the institution's id; secrets and their hashes never appear.
class PartnerCredentialEvent(EventData):
    """What every partner credential event carries: the institution (the event's subject)."""

    event_version: ClassVar[int] = 1
    source: ClassVar[str] = "intake"

    institution_id: str = Field(pattern=ID_PATTERN)


@EVENTS.register
class PartnerCredentialIssued(PartnerCredentialEvent):
    """An administrator issued a credential for the institution (a new client id)."""

    event_type: ClassVar[str] = "partner_credential.issued"

    client_id: str = Field(max_length=64)
    issued_at: datetime


@EVENTS.register
class PartnerCredentialRotated(PartnerCredentialEvent):
    """An administrator rotated the secret; the old one works `grace_minutes` more."""

    event_type: ClassVar[str] = "partner_credential.rotated"

    grace_minutes: int = Field(ge=0)
    rotated_at: datetime


@EVENTS.register
class PartnerCredentialRevoked(PartnerCredentialEvent):
    """An administrator revoked the credential: every secret stops working at once."""

    event_type: ClassVar[str] = "partner_credential.revoked"

    revoked_at: datetime
