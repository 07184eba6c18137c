"""The checkpoints' Ed25519 keys (kept outside the database) and their signatures.

The key directory holds the current signing key (`signing_key.pem`) and the public key of
every key that ever signed (`public/<key id>.pem`). Rotating is replacing the signing key:
its public key is added on the next start, and the old public keys stay, so old
checkpoints still verify with the key id they carry. On the local default a missing signing
key is generated once; elsewhere it must be given (`RUTA_AUDIT_SIGNING_KEY_FILE`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from ruta_shared.security.keys import (
    key_id,
    private_key_pem,
    public_key_pem,
    write_key_file_once,
)

from ruta_analytics.audit.rules import canonical_json

SIGNING_KEY_FILE = "signing_key.pem"
PUBLIC_DIR = "public"


class AuditKeyError(RuntimeError):
    """No usable signing key (or a key that is not Ed25519)."""


@dataclass(frozen=True)
class AuditKeys:
    """The current signing key (absent on a verifier) and every known public key by id."""

    private_key: ed25519.Ed25519PrivateKey | None
    key_id: str | None
    public_keys: Mapping[str, ed25519.Ed25519PublicKey]

    def sign(self, body: Mapping[str, Any]) -> str:
        """Base64 Ed25519 signature of the canonical JSON of `body`."""
        if self.private_key is None:
            msg = "no audit signing key loaded"
            raise AuditKeyError(msg)
        return base64.b64encode(self.private_key.sign(canonical_json(body))).decode()


def load_public_key(pem: bytes) -> ed25519.Ed25519PublicKey:
    """An Ed25519 public key from PEM."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        msg = "the audit public key must be Ed25519"
        raise AuditKeyError(msg)
    return key


def signature_valid(
    body: Mapping[str, Any], signature: str, public_keys: Mapping[str, ed25519.Ed25519PublicKey]
) -> bool:
    """Whether `signature` is the signature of `body` by the key named in `body["key_id"]`."""
    key = public_keys.get(str(body.get("key_id")))
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical_json(body))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def load_audit_keys(key_dir: Path, *, signing_key_file: Path | None, generate: bool) -> AuditKeys:
    """The signing key (given file, or the key directory's; generated when `generate`) and
    every public key in the key directory, the current one added if missing."""
    path = signing_key_file or key_dir / SIGNING_KEY_FILE
    if not path.exists():
        if not generate:
            msg = "no audit signing key: set RUTA_AUDIT_SIGNING_KEY_FILE"
            raise AuditKeyError(msg)
        write_key_file_once(path, private_key_pem(ed25519.Ed25519PrivateKey.generate()))
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ed25519.Ed25519PrivateKey):
        msg = "the audit signing key must be Ed25519"
        raise AuditKeyError(msg)
    current = key_id(loaded.public_key())
    public = key_dir / PUBLIC_DIR / f"{current}.pem"
    if not public.exists():
        write_key_file_once(public, public_key_pem(loaded.public_key()))
    return AuditKeys(loaded, current, read_public_keys(key_dir))


def read_public_keys(key_dir: Path) -> dict[str, ed25519.Ed25519PublicKey]:
    """Every public key of the key directory, by key id (computed, never trusted from names)."""
    keys: dict[str, ed25519.Ed25519PublicKey] = {}
    folder = key_dir / PUBLIC_DIR
    for file in sorted(folder.glob("*.pem")) if folder.exists() else []:
        key = load_public_key(file.read_bytes())
        keys[key_id(key)] = key
    return keys
