"""Bearer token validation: the good token and every way a token is refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import jwt
import pytest
from fastapi.testclient import TestClient
from ruta_shared.security.jwt import TokenError, build_verifier, local_verifier, oidc_verifier
from ruta_shared.security.keys import SigningKeys, generate_private_key, key_id
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_shared.testing.tokens import TokenFactory, principal


def other_keys(algorithm: str = "EdDSA", *, same_kid_as: SigningKeys | None = None) -> SigningKeys:
    private = generate_private_key(algorithm)  # type: ignore[arg-type]
    public = private.public_key()
    return SigningKeys(
        algorithm=algorithm,  # type: ignore[arg-type]
        public_key=public,
        private_key=private,
        kid=same_kid_as.kid if same_kid_as else key_id(public),
    )


def test_a_valid_token_names_the_principal(
    security_settings: SecuritySettings, make_token: TokenFactory
) -> None:
    who = principal(Role.CASE_WORKER, offices=frozenset({"lima", "cusco"}))
    before = datetime.now(UTC).replace(microsecond=0)
    verified = build_verifier(security_settings).verify(make_token(who))
    assert verified.model_copy(update={"expires_at": None}) == who
    # The token's exp travels with the principal (an open event stream ends then).
    assert verified.expires_at is not None
    assert before < verified.expires_at <= datetime.now(UTC) + timedelta(hours=1)


def test_a_partner_token_carries_its_institution(
    security_settings: SecuritySettings, make_token: TokenFactory
) -> None:
    verified = build_verifier(security_settings).verify(make_token(principal(Role.PARTNER)))
    assert verified.role is Role.PARTNER
    assert verified.institution_id == "fistrap-lima"


def refusal(settings: SecuritySettings, token: str) -> str:
    with pytest.raises(TokenError) as caught:
        build_verifier(settings).verify(token)
    return caught.value.reason


def test_missing_token(security_settings: SecuritySettings) -> None:
    assert refusal(security_settings, "") == "missing"


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30"])
def test_malformed_token(security_settings: SecuritySettings, token: str) -> None:
    assert refusal(security_settings, token) == "malformed"


def test_bad_signature(
    security_settings: SecuritySettings, signing_keys: SigningKeys, make_token: TokenFactory
) -> None:
    # Signed by another key that claims the issuer's key id.
    forged = make_token(keys=other_keys(same_kid_as=signing_keys))
    assert refusal(security_settings, forged) == "bad_signature"


def test_tampered_payload_fails_the_signature(
    security_settings: SecuritySettings, make_token: TokenFactory
) -> None:
    header, payload, signature = make_token(principal(Role.CASE_WORKER)).split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["role"] = "admin"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    assert refusal(security_settings, f"{header}.{forged_payload}.{signature}") == "bad_signature"


def test_wrong_issuer(security_settings: SecuritySettings, make_token: TokenFactory) -> None:
    assert refusal(security_settings, make_token(issuer="https://evil.example")) == "wrong_issuer"


def test_wrong_audience(security_settings: SecuritySettings, make_token: TokenFactory) -> None:
    assert refusal(security_settings, make_token(audience="another-app")) == "wrong_audience"


def test_expired(security_settings: SecuritySettings, make_token: TokenFactory) -> None:
    expired = make_token(lifetime=timedelta(minutes=-5))
    assert refusal(security_settings, expired) == "expired"


def test_expiry_within_leeway_is_accepted(
    security_settings: SecuritySettings, make_token: TokenFactory
) -> None:
    just_expired = make_token(lifetime=timedelta(seconds=-5))
    assert build_verifier(security_settings).verify(just_expired).id == "user-case_worker"


def claims(settings: SecuritySettings, **overrides: Any) -> dict[str, Any]:
    """The claims of a valid admin token for `settings`, with `overrides`."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "x",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "role": "admin",
    }
    return {**values, **overrides}


def signed(values: dict[str, Any], keys: SigningKeys, algorithm: str = "EdDSA") -> str:
    """`values` signed with `keys`, the key id in the header, as an issuer signs tokens."""
    return jwt.encode(values, keys.private_key, algorithm=algorithm, headers={"kid": keys.kid})


def test_unknown_kid(security_settings: SecuritySettings, make_token: TokenFactory) -> None:
    assert refusal(security_settings, make_token(keys=other_keys())) == "unknown_key"


def test_algorithm_none_is_refused(
    security_settings: SecuritySettings, signing_keys: SigningKeys
) -> None:
    unsigned = jwt.encode(
        claims(security_settings), None, algorithm="none", headers={"kid": signing_keys.kid}
    )
    assert refusal(security_settings, unsigned) == "bad_algorithm"


def test_missing_required_claim(
    security_settings: SecuritySettings, signing_keys: SigningKeys
) -> None:
    without_sub = claims(security_settings)
    del without_sub["sub"]
    token = signed(without_sub, signing_keys)
    assert refusal(security_settings, token) == "missing_claim"


def test_unknown_role_is_refused(
    security_settings: SecuritySettings, signing_keys: SigningKeys
) -> None:
    token = signed(claims(security_settings, role="superuser"), signing_keys)
    assert refusal(security_settings, token) == "bad_claims"


def test_default_lifetime_is_sixty_minutes() -> None:
    assert SecuritySettings(environment="test").jwt_lifetime_minutes == 60


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_other_asymmetric_algorithms(security_settings: SecuritySettings, algorithm: str) -> None:
    settings = security_settings.model_copy(update={"jwt_algorithm": algorithm})
    keys = other_keys(algorithm)
    verifier = local_verifier(keys, settings)
    token = signed(claims(settings, sub="u1", role="auditor"), keys, algorithm)
    assert verifier.verify(token).role is Role.AUDITOR
    # The same key id but a token signed with an algorithm the issuer does not use.
    hs = jwt.encode({"sub": "u1"}, "x" * 32, algorithm="HS256", headers={"kid": keys.kid})
    with pytest.raises(TokenError) as caught:
        verifier.verify(hs)
    assert caught.value.reason == "bad_algorithm"


# --- OpenID Connect (Keycloak-shaped tokens from a JWKS URL) -------------------------------


class _JwksHandler(BaseHTTPRequestHandler):
    jwks: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        body = json.dumps(self.jwks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, SigningKeys]]:
    """A real HTTP server publishing one RSA key as a JWKS, like a Keycloak realm."""
    keys = other_keys("RS256")
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys.public_key))
    _JwksHandler.jwks = {"keys": [{**jwk, "kid": keys.kid, "use": "sig", "alg": "RS256"}]}
    server = HTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield (
            f"http://127.0.0.1:{server.server_port}/realms/ruta/protocol/openid-connect/certs",
            keys,
        )
    finally:
        server.shutdown()
        server.server_close()


def keycloak_token(keys: SigningKeys, roles: list[str], **extra: Any) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": "https://sso.example/realms/ruta",
        "aud": "ruta",
        "sub": "3f1c-user",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "realm_access": {"roles": ["offline_access", "uma_authorization", *roles]},
        "offices": ["iquitos"],
        **extra,
    }
    return jwt.encode(claims, keys.private_key, algorithm="RS256", headers={"kid": keys.kid})


def test_oidc_token_maps_keycloak_roles_and_offices(
    jwks_server: tuple[str, SigningKeys],
) -> None:
    url, keys = jwks_server
    settings = SecuritySettings(
        environment="test",
        auth_mode="oidc",
        oidc_jwks_url=url,
        jwt_issuer="https://sso.example/realms/ruta",
    )
    verifier = build_verifier(settings)
    who = verifier.verify(keycloak_token(keys, ["case_worker"]))
    assert (who.id, who.role, who.offices, who.auth) == (
        "3f1c-user",
        Role.CASE_WORKER,
        frozenset({"iquitos"}),
        "oidc",
    )
    with pytest.raises(TokenError) as two_roles:
        verifier.verify(keycloak_token(keys, ["case_worker", "admin"]))
    assert two_roles.value.reason == "bad_claims"
    with pytest.raises(TokenError) as unknown_kid:
        verifier.verify(keycloak_token(other_keys("RS256"), ["admin"]))
    assert unknown_kid.value.reason == "unknown_key"
    with pytest.raises(TokenError) as wrong_issuer:
        verifier.verify(keycloak_token(keys, ["admin"], iss="https://other.example/realms/x"))
    assert wrong_issuer.value.reason == "wrong_issuer"


def test_oidc_provider_unreachable() -> None:
    settings = SecuritySettings(
        environment="test", auth_mode="oidc", oidc_jwks_url="http://127.0.0.1:9/certs"
    )
    token = keycloak_token(other_keys("RS256"), ["admin"])
    with pytest.raises(TokenError) as caught:
        oidc_verifier(settings).verify(token)
    assert caught.value.reason == "provider_unavailable"


# --- over HTTP: 401, a Spanish message and the Bearer challenge -------------------------------


@pytest.fixture
def client(security_settings: SecuritySettings) -> TestClient:
    app = create_service_app(
        ServiceSettings(environment="test"),
        title="t",
        description="d",
        security=security_settings,
        encrypts_fields=False,
    )
    return TestClient(app)


def test_me_answers_the_principal(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get("/me", headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 200
    assert response.json() == {
        "id": "user-case_worker",
        "role": "case_worker",
        "offices": ["lima"],
        "institution_id": None,
        "auth": "password",
    }


@pytest.mark.parametrize(
    ("case", "expected_detail"),
    [
        ("missing", "Falta el token de acceso"),
        ("not_bearer", "Falta el token de acceso"),
        ("malformed", "no tiene un formato válido"),
        ("bad_signature", "La firma del token de acceso no es válida"),
        ("wrong_issuer", "no fue emitido por el emisor configurado"),
        ("wrong_audience", "no está destinado a Ruta"),
        ("expired", "expiró"),
        ("unknown_kid", "clave desconocida"),
    ],
)
def test_every_bad_token_is_a_401_with_a_bearer_challenge(
    client: TestClient,
    make_token: TokenFactory,
    signing_keys: SigningKeys,
    case: str,
    expected_detail: str,
) -> None:
    tokens = {
        "malformed": "Bearer abc.def",
        "not_bearer": "Basic dXNlcjpwYXNz",
        "bad_signature": "Bearer " + make_token(keys=other_keys(same_kid_as=signing_keys)),
        "wrong_issuer": "Bearer " + make_token(issuer="https://evil.example"),
        "wrong_audience": "Bearer " + make_token(audience="x"),
        "expired": "Bearer " + make_token(lifetime=timedelta(hours=-1)),
        "unknown_kid": "Bearer " + make_token(keys=other_keys()),
    }
    headers = {"Authorization": tokens[case]} if case in tokens else {}
    response = client.get("/me", headers=headers)
    assert response.status_code == 401
    assert expected_detail in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="ruta"')
