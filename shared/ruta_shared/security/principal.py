"""Who is calling: a user or partner institution, by pseudonymous id and role, never by name."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ruta_shared.events.envelope import Actor
from ruta_shared.reference import Office

OFFICES: tuple[str, ...] = get_args(Office)

AuthKind = Literal["password", "oidc", "client_credentials", "api_key"]


class Role(StrEnum):
    """The roles of Ruta; a partner is an institution's credential, not a person."""

    CASE_WORKER = "case_worker"
    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PARTNER = "partner"


class Principal(BaseModel):
    """The authenticated caller, as every route sees it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100, description="User or credential id (sub).")
    role: Role
    offices: frozenset[Office] = frozenset()
    institution_id: str | None = Field(default=None, min_length=1, max_length=100)
    auth: AuthKind
    expires_at: datetime | None = Field(
        default=None,
        description="When the credential stops being valid (a token's exp); None for API keys.",
    )

    @model_validator(mode="after")
    def _institution_only_for_partners(self) -> Principal:
        if (self.role is Role.PARTNER) != (self.institution_id is not None):
            msg = "institution_id is required for partners and only for them"
            raise ValueError(msg)
        return self

    @property
    def actor(self) -> Actor:
        """The event actor for this principal (id and role only)."""
        return Actor(id=self.id, role=self.role.value)
