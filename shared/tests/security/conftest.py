"""Fixtures for the security tests: settings with keys in a temporary folder, token factories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import SigningKeys, load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings

TokenFactory = Callable[..., str]


@pytest.fixture
def security_settings(tmp_path: Path) -> SecuritySettings:
    """Test settings whose generated keys live in this test's own folder."""
    return SecuritySettings(environment="test", key_dir=tmp_path / "keys")


@pytest.fixture
def signing_keys(security_settings: SecuritySettings) -> SigningKeys:
    """The local issuer's keys for these settings."""
    return load_signing_keys(security_settings)


def principal(role: Role = Role.CASE_WORKER, **overrides: Any) -> Principal:
    """A principal of `role` (partners get an institution)."""
    values: dict[str, Any] = {
        "id": f"user-{role.value}",
        "role": role,
        "offices": frozenset({"lima"}) if role is not Role.PARTNER else frozenset(),
        "institution_id": "fistrap-lima" if role is Role.PARTNER else None,
        "auth": "client_credentials" if role is Role.PARTNER else "password",
    }
    values.update(overrides)
    return Principal(**values)


@pytest.fixture
def make_token(security_settings: SecuritySettings, signing_keys: SigningKeys) -> TokenFactory:
    """Sign a token for a principal, with the issuer's settings unless overridden."""

    def make(
        who: Principal | None = None,
        *,
        keys: SigningKeys | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        lifetime: timedelta = timedelta(minutes=5),
    ) -> str:
        return sign_token(
            who or principal(),
            keys=keys or signing_keys,
            issuer=issuer or security_settings.jwt_issuer,
            audience=audience or security_settings.jwt_audience,
            lifetime=lifetime,
        )

    return make
