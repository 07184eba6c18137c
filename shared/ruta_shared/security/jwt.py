"""Bearer JWTs: signing by Ruta's own issuer; validation with its key or an OIDC provider's JWKS."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import jwt
from pydantic import ValidationError
from uuid6 import uuid7

from ruta_shared.security.keys import PublicKey, SigningKeys, load_signing_keys
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings

REQUIRED_CLAIMS: Final = ("exp", "iat", "iss", "aud", "sub")
VERSION_CLAIM: Final = "ver"  # the account's version when the token was signed
_ROLE_NAMES: Final = frozenset(role.value for role in Role)

TokenFailure = Literal[
    "missing",
    "malformed",
    "bad_signature",
    "bad_algorithm",
    "wrong_issuer",
    "wrong_audience",
    "expired",
    "not_yet_valid",
    "unknown_key",
    "missing_claim",
    "bad_claims",
    "provider_unavailable",
]

# What the caller reads (Spanish); the reason code goes to logs and metrics, never the token.
TOKEN_FAILURE_DETAILS: Final[Mapping[str, str]] = {
    "missing": "Falta el token de acceso: inicie sesión y envíe «Authorization: Bearer <token>».",
    "malformed": "El token de acceso no tiene un formato válido.",
    "bad_signature": "La firma del token de acceso no es válida.",
    "bad_algorithm": "El token de acceso usa un algoritmo de firma no permitido.",
    "wrong_issuer": "El token de acceso no fue emitido por el emisor configurado.",
    "wrong_audience": "El token de acceso no está destinado a Ruta.",
    "expired": "El token de acceso expiró: inicie sesión de nuevo.",
    "not_yet_valid": "El token de acceso todavía no es válido.",
    "unknown_key": "El token de acceso está firmado con una clave desconocida.",
    "missing_claim": "Al token de acceso le falta un dato obligatorio.",
    "bad_claims": "El token de acceso no indica un rol y oficinas válidos de Ruta.",
    "provider_unavailable": "No se pudo verificar el token: el proveedor de identidad no responde.",
}


class TokenError(Exception):
    """A bearer token was refused; `reason` is a short code, `detail` the Spanish message."""

    def __init__(self, reason: TokenFailure) -> None:
        super().__init__(reason)
        self.reason: TokenFailure = reason

    @property
    def detail(self) -> str:
        """The message the caller sees."""
        return TOKEN_FAILURE_DETAILS[self.reason]


@dataclass(frozen=True)
class ClaimNames:
    """Where an OpenID Connect provider puts Ruta's role, offices and institution."""

    roles: str = "realm_access.roles"
    offices: str = "offices"
    institution: str = "institution_id"


KeyResolver = Callable[[str], Any]


class JwtVerifier:
    """Validates bearer JWTs: signature, algorithm, issuer, audience, expiry, required claims."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str],
        key_for: KeyResolver,
        mode: Literal["local", "oidc"],
        claim_names: ClaimNames | None = None,
        leeway_seconds: int = 30,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._algorithms = list(algorithms)
        self._key_for = key_for
        self._mode = mode
        self._claims = claim_names or ClaimNames()
        self._leeway = leeway_seconds

    @property
    def blocking(self) -> bool:
        """True when verifying may fetch keys over the network (run it in a thread)."""
        return self._mode == "oidc"

    def verify(self, token: str) -> Principal:
        """The principal a valid token names; TokenError otherwise."""
        return self.verify_versioned(token)[0]

    def verify_versioned(self, token: str) -> tuple[Principal, int | None]:
        """The principal and account version (`ver`, None if absent) of a valid token."""
        if not token:
            raise TokenError("missing")
        key = self._key_for(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError("wrong_audience") from None
        except jwt.InvalidIssuerError:
            raise TokenError("wrong_issuer") from None
        except jwt.InvalidSignatureError:
            raise TokenError("bad_signature") from None
        except jwt.InvalidAlgorithmError:
            raise TokenError("bad_algorithm") from None
        except jwt.MissingRequiredClaimError:
            raise TokenError("missing_claim") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("not_yet_valid") from None
        except jwt.PyJWTError:
            raise TokenError("malformed") from None
        version = claims.get(VERSION_CLAIM) if self._mode == "local" else None
        if version is not None and (type(version) is not int or version < 0):
            raise TokenError("bad_claims")
        return self._principal(claims), version

    def _principal(self, claims: dict[str, Any]) -> Principal:
        try:
            if self._mode == "local":
                return Principal(
                    id=str(claims["sub"]),
                    role=Role(claims["role"]),
                    offices=frozenset(claims.get("offices") or ()),
                    institution_id=claims.get("institution_id"),
                    auth=claims.get("auth", "password"),
                    expires_at=_expiry(claims),
                )
            roles = _dig(claims, self._claims.roles)
            ruta_roles = (
                {r for r in roles if r in _ROLE_NAMES} if isinstance(roles, list) else set()
            )
            if len(ruta_roles) != 1:
                raise TokenError("bad_claims")
            institution = _dig(claims, self._claims.institution)
            return Principal(
                id=str(claims["sub"]),
                role=Role(ruta_roles.pop()),
                offices=frozenset(_dig(claims, self._claims.offices) or ()),
                institution_id=str(institution) if institution is not None else None,
                auth="oidc",
                expires_at=_expiry(claims),
            )
        except (KeyError, ValueError, TypeError, ValidationError):
            raise TokenError("bad_claims") from None


def _expiry(claims: Mapping[str, Any]) -> datetime:
    """The token's `exp` claim (seconds since the epoch, checked by PyJWT) as a datetime."""
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


def _dig(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (`realm_access.roles`), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def local_verifier(keys: SigningKeys, settings: SecuritySettings) -> JwtVerifier:
    """A verifier for tokens signed by Ruta's own issuer."""

    def key_for(token: str) -> PublicKey:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("malformed") from None
        if header.get("kid") != keys.kid:
            raise TokenError("unknown_key")
        return keys.public_key

    return JwtVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        algorithms=[keys.algorithm],
        key_for=key_for,
        mode="local",
        leeway_seconds=settings.jwt_leeway_seconds,
    )


def oidc_verifier(settings: SecuritySettings, jwks: jwt.PyJWKClient | None = None) -> JwtVerifier:
    """A verifier for an OpenID Connect provider's tokens (Keycloak realm or similar)."""
    if not settings.oidc_jwks_url and jwks is None:
        msg = "RUTA_OIDC_JWKS_URL is required when RUTA_AUTH_MODE is oidc"
        raise ValueError(msg)
    client = jwks or jwt.PyJWKClient(settings.oidc_jwks_url or "", cache_keys=True, timeout=5)

    def key_for(token: str) -> Any:
        try:
            return client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise TokenError("provider_unavailable") from None
        except jwt.PyJWKClientError:
            raise TokenError("unknown_key") from None
        except jwt.PyJWTError:
            raise TokenError("malformed") from None

    return JwtVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        algorithms=list(settings.oidc_algorithms),
        key_for=key_for,
        mode="oidc",
        claim_names=ClaimNames(
            roles=settings.oidc_roles_claim,
            offices=settings.oidc_offices_claim,
            institution=settings.oidc_institution_claim,
        ),
        leeway_seconds=settings.jwt_leeway_seconds,
    )


def build_verifier(settings: SecuritySettings) -> JwtVerifier:
    """The verifier the settings select."""
    if settings.auth_mode == "oidc":
        return oidc_verifier(settings)
    return local_verifier(load_signing_keys(settings), settings)


def sign_token(
    principal: Principal,
    *,
    keys: SigningKeys,
    issuer: str,
    audience: str,
    lifetime: timedelta,
    now: datetime | None = None,
    version: int | None = None,
) -> str:
    """A token for `principal` signed by Ruta's own issuer (needs the private key).

    `version` is the account's version (claim `ver`), checked on every request.
    """
    if keys.private_key is None:
        msg = "this process has no private key: it can verify tokens but not issue them"
        raise RuntimeError(msg)
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": principal.id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": str(uuid7()),
        "role": principal.role.value,
        "offices": sorted(principal.offices),
        "auth": principal.auth,
    }
    if principal.institution_id is not None:
        claims["institution_id"] = principal.institution_id
    if version is not None:
        claims[VERSION_CLAIM] = version
    return jwt.encode(claims, keys.private_key, algorithm=keys.algorithm, headers={"kid": keys.kid})
