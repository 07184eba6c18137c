"""Loads signing keys, master keys and the blind-index key; generates them once on local only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ruta_shared.security.settings import InsecureSettingsError, JwtAlgorithm, SecuritySettings

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

MASTER_KEY_BYTES = 32
MIN_BLIND_INDEX_KEY_BYTES = 32

JWT_PRIVATE_KEY_FILE = "jwt_private_key.pem"
MASTER_KEYS_FILE = "master_keys.json"
BLIND_INDEX_KEY_FILE = "blind_index_key"


@dataclass(frozen=True)
class SigningKeys:
    """The local issuer's key pair (private part absent on services that only verify)."""

    algorithm: JwtAlgorithm
    public_key: PublicKey
    private_key: PrivateKey | None
    kid: str


@dataclass(frozen=True)
class MasterKeyring:
    """Master keys by version; `current` wraps new data keys, every version still unwraps."""

    keys: dict[int, bytes]
    current: int

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            msg = f"master key version {self.current} is not in the keyring"
            raise ValueError(msg)
        for version, key in self.keys.items():
            if len(key) != MASTER_KEY_BYTES:
                msg = f"master key version {version} must be {MASTER_KEY_BYTES} bytes"
                raise ValueError(msg)
            if len(set(key)) < 8:
                msg = f"master key version {version} is not random"
                raise ValueError(msg)

    def key(self, version: int) -> bytes:
        """The master key of `version` (KeyError when unknown)."""
        return self.keys[version]


def key_id(public_key: PublicKey) -> str:
    """A stable id of a public key: the start of the SHA-256 of its DER encoding."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def generate_private_key(algorithm: JwtAlgorithm) -> PrivateKey:
    """A fresh private key for `algorithm`."""
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


def private_key_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key (unencrypted: protect the file, not the bytes)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of a public key."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_signing_keys(settings: SecuritySettings) -> SigningKeys:
    """The local issuer's keys from settings, a key file, or (local only) a generated file."""
    private_pem = _secret_or_file(
        settings.jwt_private_key.get_secret_value() if settings.jwt_private_key else None,
        settings.jwt_private_key_file,
    )
    public_pem = _secret_or_file(settings.jwt_public_key, settings.jwt_public_key_file)
    if private_pem is None and public_pem is None:
        private_pem = _local_file(
            settings,
            JWT_PRIVATE_KEY_FILE,
            lambda: private_key_pem(generate_private_key(settings.jwt_algorithm)),
        )
    private_key: PrivateKey | None = None
    if private_pem is not None:
        loaded = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(
            loaded, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        ):
            msg = "the JWT private key must be Ed25519, EC P-256 or RSA"
            raise InsecureSettingsError(msg)
        private_key = loaded
        public_key: PublicKey = loaded.public_key()
    else:
        assert public_pem is not None
        loaded_public = serialization.load_pem_public_key(public_pem)
        if not isinstance(
            loaded_public, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
        ):
            msg = "the JWT public key must be Ed25519, EC P-256 or RSA"
            raise InsecureSettingsError(msg)
        public_key = loaded_public
    _check_algorithm(settings.jwt_algorithm, public_key)
    return SigningKeys(
        algorithm=settings.jwt_algorithm,
        public_key=public_key,
        private_key=private_key,
        kid=key_id(public_key),
    )


def load_master_keyring(settings: SecuritySettings) -> MasterKeyring:
    """Master keys from settings, a JSON key file, or (local only) a generated file."""
    raw = _secret_or_file(
        settings.master_keys.get_secret_value() if settings.master_keys else None,
        settings.master_keys_file,
    )
    if raw is None:
        raw = _local_file(settings, MASTER_KEYS_FILE, new_master_keys_json)
    keys = parse_master_keys(raw)
    current = settings.master_key_version or max(keys)
    try:
        return MasterKeyring(keys=keys, current=current)
    except ValueError as exc:
        raise InsecureSettingsError(str(exc)) from None


def load_blind_index_key(settings: SecuritySettings) -> bytes:
    """The blind-index HMAC key (base64) from settings, a file, or (local only) a generated file."""
    raw = _secret_or_file(
        settings.blind_index_key.get_secret_value() if settings.blind_index_key else None,
        settings.blind_index_key_file,
    )
    if raw is None:
        raw = _local_file(
            settings, BLIND_INDEX_KEY_FILE, lambda: base64.b64encode(secrets.token_bytes(32))
        )
    key = _b64(raw.strip(), "blind index key")
    if len(key) < MIN_BLIND_INDEX_KEY_BYTES:
        msg = f"the blind index key must be at least {MIN_BLIND_INDEX_KEY_BYTES} bytes"
        raise InsecureSettingsError(msg)
    return key


def new_master_keys_json(version: int = 1) -> bytes:
    """A key file holding one fresh master key."""
    key = base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)).decode()
    return json.dumps({str(version): key}).encode()


def parse_master_keys(raw: bytes) -> dict[int, bytes]:
    """Parse `{"1": "<base64>", "2": "<base64>"}` into versions and key bytes."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        msg = "master keys must be a JSON object of version -> base64 key"
        raise InsecureSettingsError(msg) from None
    if not isinstance(document, dict) or not document:
        msg = "master keys must be a non-empty JSON object of version -> base64 key"
        raise InsecureSettingsError(msg)
    keys: dict[int, bytes] = {}
    for version, value in document.items():
        if not str(version).isdigit() or int(version) < 1 or not isinstance(value, str):
            msg = "master key versions must be positive integers mapped to base64 strings"
            raise InsecureSettingsError(msg)
        keys[int(version)] = _b64(value.encode(), f"master key version {version}")
    return keys


def _b64(raw: bytes, what: str) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        msg = f"the {what} is not valid base64"
        raise InsecureSettingsError(msg) from None


def _check_algorithm(algorithm: JwtAlgorithm, public_key: PublicKey) -> None:
    expected = {
        "EdDSA": ed25519.Ed25519PublicKey,
        "ES256": ec.EllipticCurvePublicKey,
        "RS256": rsa.RSAPublicKey,
    }[algorithm]
    if not isinstance(public_key, expected):
        msg = f"RUTA_JWT_ALGORITHM {algorithm} does not match the configured key type"
        raise InsecureSettingsError(msg)


def _secret_or_file(value: str | None, path: Path | None) -> bytes | None:
    if path is not None:
        return path.read_bytes()
    if value is not None and value.strip():
        return value.encode()
    return None


def _local_file(settings: SecuritySettings, name: str, make: Callable[[], bytes]) -> bytes:
    """Read a key file under `key_dir`, creating it atomically first if missing (local only)."""
    if not settings.is_local:
        msg = f"no key configured for {name} and keys are generated only on the local default"
        raise InsecureSettingsError(msg)
    path = settings.key_dir / name
    if not path.exists():
        write_key_file_once(path, make())
    return path.read_bytes()


def write_key_file_once(path: Path, content: bytes) -> None:
    """Create a key file (mode 0600, folder 0700) atomically, unless another process did."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    try:
        # link() fails when another process won the race; theirs is then the key.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
