"""Fixtures for shared's tests: security settings with keys in a temporary folder, tokens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from ruta_shared.security.jwt import sign_token
from ruta_shared.security.keys import SigningKeys, load_signing_keys
from ruta_shared.security.principal import Principal
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.tokens import TokenFactory, principal


@pytest.fixture
def security_settings(tmp_path: Path) -> SecuritySettings:
    """Test settings whose generated keys live in this test's own folder."""
    return SecuritySettings(environment="test", key_dir=tmp_path / "keys")


@pytest.fixture
def signing_keys(security_settings: SecuritySettings) -> SigningKeys:
    """The local issuer's keys for these settings."""
    return load_signing_keys(security_settings)


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
