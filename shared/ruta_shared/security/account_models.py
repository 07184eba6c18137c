"""The bodies of the account administration routes (`ruta_shared.security.accounts`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, Field

from ruta_shared.ids import ID_PATTERN
from ruta_shared.reference import Office
from ruta_shared.security.passwords import MAX_PASSWORD_LENGTH
from ruta_shared.security.principal import Role
from ruta_shared.security.users import User


class AccountAccess(BaseModel):
    """What an account may do: its role, offices and (partners' people only) institution."""

    role: Role
    offices: list[Office] = Field(default_factory=list, max_length=50)
    institution_id: str | None = Field(default=None, pattern=ID_PATTERN)


class AccountCreate(AccountAccess):
    """What an administrator sends to create an account (no password: the owner sets it)."""

    username: str = Field(min_length=2, max_length=63, description="minúsculas, dígitos, . _ -")


class AccountUpdate(BaseModel):
    """A change of access; fields left out keep their value."""

    role: Role | None = None
    offices: list[Office] | None = Field(default=None, max_length=50)
    institution_id: str | None = Field(default=None, pattern=ID_PATTERN)


class AccountRead(BaseModel):
    """An account as administrators see it (never its password hash or codes)."""

    id: str
    username: str
    role: Role
    offices: list[str]
    institution_id: str | None
    disabled: bool

    @classmethod
    def of(cls, user: User) -> AccountRead:
        """The view of a stored account."""
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            offices=sorted(user.offices),
            institution_id=user.institution_id,
            disabled=user.disabled,
        )


class AccountPage(BaseModel):
    """One page of accounts in creation order; pass `next_after` as `after` for the next."""

    items: list[AccountRead]
    next_after: str | None


class PasswordCode(BaseModel):
    """A one-time code for the owner to set a password: shown once, stored only as a hash."""

    code: str
    expires_at: datetime


class AccountCreatedRead(AccountRead):
    """A new account and the code its owner needs to set a password."""

    password_code: PasswordCode


class PasswordSetRequest(BaseModel):
    """What the owner sends with the code to set their password."""

    code: str = Field(min_length=1, max_length=300)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class FieldProblem(BaseModel):
    """One rejected field."""

    field: str
    type: str
    message: str


class Problem(BaseModel):
    """An error answer: a Spanish sentence, and the fields at fault when there are any."""

    detail: str
    errors: list[FieldProblem] | None = None


# The error answers of these routes, as the OpenAPI document states them.
PROBLEMS: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": Problem} for status in (400, 401, 403, 404, 409, 422, 503)
}
