"""Security settings (`RUTA_` prefix) and the startup check that refuses unsafe ones."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SAFE_ENVIRONMENTS = frozenset({"local", "test"})

# Values people paste from examples; refused outside local/test whatever field they are in.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "password", "default", "ruta", "test"}
)

LOCAL_PROXIES = ("127.0.0.1", "::1")

JwtAlgorithm = Literal["EdDSA", "ES256", "RS256"]


class InsecureSettingsError(RuntimeError):
    """The service refuses to start: secrets or keys are missing or left at a default."""


class SecuritySettings(BaseSettings):
    """Keys, issuer and policy knobs; read from the environment like `ServiceSettings`.

    On the local default (`environment` local or test) missing keys are generated once
    into `key_dir` so every local process shares them; elsewhere they must be given.
    """

    model_config = SettingsConfigDict(env_prefix="RUTA_", extra="ignore", frozen=True)

    environment: Literal["local", "test", "production"] = "local"
    key_dir: Path = Path(".local/keys")

    # Staff tokens: Ruta's own issuer ("local") or an OpenID Connect provider ("oidc").
    auth_mode: Literal["local", "oidc"] = "local"
    jwt_issuer: str = "ruta-local"
    jwt_audience: str = "ruta"
    jwt_algorithm: JwtAlgorithm = "EdDSA"
    jwt_lifetime_minutes: int = Field(default=60, ge=1, le=24 * 60)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwt_private_key: SecretStr | None = None
    jwt_private_key_file: Path | None = None
    jwt_public_key: str | None = None
    jwt_public_key_file: Path | None = None

    oidc_jwks_url: str | None = None
    oidc_algorithms: tuple[JwtAlgorithm, ...] = ("RS256", "ES256", "EdDSA")
    oidc_roles_claim: str = "realm_access.roles"
    oidc_offices_claim: str = "offices"
    oidc_institution_claim: str = "institution_id"

    # Users, login throttling and partner credentials live in their own database.
    auth_mongo_database: str = "ruta_auth"
    login_free_failures: int = Field(default=3, ge=1)
    login_base_delay_seconds: float = Field(default=2.0, gt=0)
    login_max_delay_seconds: float = Field(default=900.0, gt=0)
    login_failure_memory_seconds: float = Field(default=3600.0, gt=0)
    # Failures on one username from every address only slow its logins down, never refuse
    # them, so that a stranger who knows a username cannot lock its owner out.
    login_user_delay_max_seconds: float = Field(default=5.0, ge=0, le=30)
    # Addresses (or networks) whose X-Forwarded-For is believed: the analytics dashboard's
    # login proxy. None: 127.0.0.1 and ::1 on the local default, nobody elsewhere.
    trusted_proxies: tuple[str, ...] | None = None
    # Accounts: how long a disabled user or revoked partner credential may still be
    # served by a process (per-process cache of the account state, read by `_id`).
    account_cache_seconds: float = Field(default=2.0, ge=0, le=4)
    # One-time codes an administrator hands to a user to set their password.
    password_code_minutes: int = Field(default=24 * 60, ge=5, le=7 * 24 * 60)
    partner_rotation_grace_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60)
    # Short, so a revoked client-credentials partner loses access soon after revocation.
    partner_token_minutes: int = Field(default=15, ge=1, le=60)

    # Field encryption: master keys by version (JSON {"1": "<base64 32 bytes>"}).
    master_keys: SecretStr | None = None
    master_keys_file: Path | None = None
    master_key_version: int | None = Field(default=None, ge=1)
    blind_index_key: SecretStr | None = None
    blind_index_key_file: Path | None = None

    # Bearer token Prometheus sends to /metrics; outside local/test /metrics is closed without it.
    metrics_token: SecretStr | None = None
    metrics_token_file: Path | None = None

    break_glass_minutes: int = Field(default=60, ge=1, le=24 * 60)
    break_glass_min_justification: int = Field(default=30, ge=10)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for entry in value or ():
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError names the entry
        return value

    @property
    def is_local(self) -> bool:
        """True on the local default (local development or tests)."""
        return self.environment in SAFE_ENVIRONMENTS

    @property
    def proxy_addresses(self) -> tuple[str, ...]:
        """The proxies whose X-Forwarded-For is believed (see `trusted_proxies`)."""
        if self.trusted_proxies is not None:
            return self.trusted_proxies
        return LOCAL_PROXIES if self.is_local else ()

    @property
    def metrics_secret(self) -> str | None:
        """The metrics bearer token, or None when none (or a placeholder) is configured."""
        if self.metrics_token is not None:
            value = self.metrics_token.get_secret_value().strip()
        elif self.metrics_token_file is not None:
            value = self.metrics_token_file.read_text(encoding="utf-8").strip()
        else:
            return None
        return None if value.lower() in PLACEHOLDER_SECRETS else value


def insecure_settings(
    settings: SecuritySettings, *, issues_tokens: bool, encrypts_fields: bool
) -> list[str]:
    """What makes these settings unfit outside local/test (empty when they are fine)."""
    if settings.is_local:
        return []
    problems: list[str] = []
    if settings.auth_mode == "oidc":
        if not settings.oidc_jwks_url or not settings.oidc_jwks_url.startswith("https://"):
            problems.append("RUTA_OIDC_JWKS_URL must be an https URL")
    else:
        if settings.jwt_issuer == "ruta-local":
            problems.append("RUTA_JWT_ISSUER is left at its local default")
        has_private = _given(settings.jwt_private_key, settings.jwt_private_key_file)
        has_public = bool(settings.jwt_public_key) or settings.jwt_public_key_file is not None
        if issues_tokens and not has_private:
            problems.append("RUTA_JWT_PRIVATE_KEY or RUTA_JWT_PRIVATE_KEY_FILE is required")
        if not (has_private or has_public):
            problems.append("RUTA_JWT_PUBLIC_KEY or RUTA_JWT_PUBLIC_KEY_FILE is required")
    if encrypts_fields:
        if not _given(settings.master_keys, settings.master_keys_file):
            problems.append("RUTA_MASTER_KEYS or RUTA_MASTER_KEYS_FILE is required")
        if not _given(settings.blind_index_key, settings.blind_index_key_file):
            problems.append("RUTA_BLIND_INDEX_KEY or RUTA_BLIND_INDEX_KEY_FILE is required")
    return problems


def check_security_settings(
    settings: SecuritySettings, *, issues_tokens: bool, encrypts_fields: bool
) -> None:
    """Raise InsecureSettingsError listing every problem; nothing to do on the local default."""
    problems = insecure_settings(
        settings, issues_tokens=issues_tokens, encrypts_fields=encrypts_fields
    )
    if problems:
        msg = (
            f"refusing to start in environment {settings.environment!r}: "
            + "; ".join(problems)
            + " (see docs/security.md)"
        )
        raise InsecureSettingsError(msg)


def _given(secret: SecretStr | None, path: Path | None) -> bool:
    if path is not None:
        return True
    return (
        secret is not None and secret.get_secret_value().strip().lower() not in PLACEHOLDER_SECRETS
    )
