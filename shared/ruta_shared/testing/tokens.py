"""Principals and signed tokens for tests, accepted by apps built with the same settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings

TokenFactory = Callable[..., str]


def principal(role: Role = Role.CASE_WORKER, **overrides: Any) -> Principal:
    """A principal of `role` in Lima (partners get an institution and no office)."""
    values: dict[str, Any] = {
        "id": f"user-{role.value}",
        "role": role,
        "offices": frozenset({"lima"}) if role is not Role.PARTNER else frozenset(),
        "institution_id": "fistrap-lima" if role is Role.PARTNER else None,
        "auth": "client_credentials" if role is Role.PARTNER else "password",
    }
    values.update(overrides)
    return Principal(**values)


def bearer(security: SecuritySettings, role: Role, **overrides: Any) -> dict[str, str]:
    """An Authorization header for `principal(role, **overrides)`, signed with `security`'s keys."""
    token = sign_token(
        principal(role, **overrides),
        keys=load_signing_keys(security),
        issuer=security.jwt_issuer,
        audience=security.jwt_audience,
        lifetime=timedelta(minutes=30),
    )
    return {"Authorization": f"Bearer {token}"}
