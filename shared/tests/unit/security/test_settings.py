"""Settings refuse missing or default secrets outside local; local keys are generated once."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest
from ruta_shared.security.install import api_routes
from ruta_shared.security.keys import (
    generate_private_key,
    load_blind_index_key,
    load_master_keyring,
    load_signing_keys,
    private_key_pem,
)
from ruta_shared.security.settings import (
    InsecureSettingsError,
    SecuritySettings,
    check_security_settings,
)
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings


def test_local_keys_are_generated_once_and_shared(tmp_path: Path) -> None:
    settings = SecuritySettings(environment="local", key_dir=tmp_path)
    first = load_signing_keys(settings)
    assert load_signing_keys(settings).kid == first.kid
    assert load_master_keyring(settings).keys == load_master_keyring(settings).keys
    assert load_blind_index_key(settings) == load_blind_index_key(settings)
    assert oct((tmp_path / "jwt_private_key.pem").stat().st_mode & 0o777) == "0o600"


def test_production_refuses_missing_keys(tmp_path: Path) -> None:
    settings = SecuritySettings(environment="production", key_dir=tmp_path)
    with pytest.raises(InsecureSettingsError) as caught:
        check_security_settings(settings, issues_tokens=True, encrypts_fields=True)
    message = str(caught.value)
    for expected in (
        "RUTA_JWT_ISSUER",
        "RUTA_JWT_PRIVATE_KEY",
        "RUTA_MASTER_KEYS",
        "RUTA_BLIND_INDEX_KEY",
    ):
        assert expected in message
    with pytest.raises(InsecureSettingsError, match="only on the local default"):
        load_signing_keys(settings)
    assert not any(tmp_path.iterdir())


def test_production_refuses_placeholder_secrets() -> None:
    settings = SecuritySettings(
        environment="production",
        jwt_issuer="https://ruta.example",
        jwt_public_key="-----BEGIN PUBLIC KEY-----",
        master_keys="changethis",
        blind_index_key="changeme",
    )
    with pytest.raises(InsecureSettingsError, match=r"RUTA_MASTER_KEYS.*RUTA_BLIND_INDEX_KEY"):
        check_security_settings(settings, issues_tokens=False, encrypts_fields=True)


def test_production_with_real_keys_starts(tmp_path: Path) -> None:
    key_file = tmp_path / "jwt.pem"
    key_file.write_bytes(private_key_pem(generate_private_key("EdDSA")))
    master = json.dumps({"1": base64.b64encode(secrets.token_bytes(32)).decode()})
    settings = SecuritySettings(
        environment="production",
        jwt_issuer="https://ruta.example",
        jwt_private_key_file=key_file,
        master_keys=master,
        blind_index_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    check_security_settings(settings, issues_tokens=True, encrypts_fields=True)
    app = create_service_app(
        ServiceSettings(environment="production"),
        title="t",
        description="d",
        security=settings,
        issue_tokens=True,
    )
    assert {"/me", "/auth/token"} <= {route.path for route in api_routes(app)}


def test_the_service_refuses_to_start_in_production_without_keys(tmp_path: Path) -> None:
    with pytest.raises(InsecureSettingsError, match="refusing to start"):
        create_service_app(
            ServiceSettings(environment="production"),
            title="t",
            description="d",
            security=SecuritySettings(environment="production", key_dir=tmp_path),
        )


def test_oidc_in_production_needs_an_https_jwks_url() -> None:
    settings = SecuritySettings(
        environment="production", auth_mode="oidc", oidc_jwks_url="http://sso/certs"
    )
    with pytest.raises(InsecureSettingsError, match="https"):
        check_security_settings(settings, issues_tokens=False, encrypts_fields=False)
