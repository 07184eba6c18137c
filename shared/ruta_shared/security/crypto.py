"""Field encryption (AES-256-GCM, a data key per subject wrapped by a master key) and blind index.

Every field ciphertext is `rk1:` + base64url of
    format (1 byte) | data key id (16 bytes, UUID) | master key version (4 bytes)
    | nonce (12 bytes) | ciphertext and GCM tag
The header is authenticated (GCM associated data) together with the subject and field
name, so a ciphertext cannot be moved to another field or subject. The master key
version records which master key wrapped the data key when the field was written; the
authoritative wrapping version is the one stored with the data key, which `rewrap()`
moves to the current master key without touching any field (rotation without downtime).

Erasure is crypto-shredding: `destroy()` deletes the wrapped data key and leaves a
tombstone, after which every field of that subject raises DataErasedError, wherever a
copy of the ciphertext lives.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets
import struct
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from uuid6 import uuid7

from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.keys import MasterKeyring

log = logging.getLogger(__name__)

DATA_KEYS_COLLECTION: Final = "data_keys"
PREFIX: Final = "rk1:"
FORMAT_VERSION: Final = 1
_HEADER = struct.Struct(">B16sI")  # format, key id, master key version
NONCE_BYTES: Final = 12
DATA_KEY_BYTES: Final = 32
SUBJECT_TYPE_PATTERN: Final = r"^[a-z][a-z_]{0,39}$"
SUBJECT_ID_PATTERN = ID_PATTERN

ERASED_DETAIL: Final = (
    "Los datos personales de esta persona fueron eliminados (borrado criptográfico) "
    "y ya no se pueden leer."
)

Document = dict[str, Any]


class DataErasedError(Exception):
    """The subject's data key was destroyed: its personal data can no longer be read."""

    def __init__(self, subject_type: str, subject_id: str) -> None:
        super().__init__(f"{subject_type} {subject_id} was erased")
        self.subject_type = subject_type
        self.subject_id = subject_id


class CiphertextError(ValueError):
    """Not a Ruta field ciphertext, tampered with, or not for this subject and field."""


class UnknownSubjectKeyError(KeyError):
    """No data key exists for the subject."""


@dataclass(frozen=True)
class CiphertextHeader:
    """What a field ciphertext says about itself (readable without any key)."""

    format_version: int
    key_id: str
    master_version: int


def parse_header(token: str) -> CiphertextHeader:
    """The header of a field ciphertext."""
    raw = _decode(token)
    fmt, key_bytes, master_version = _HEADER.unpack_from(raw)
    return CiphertextHeader(fmt, str(UUID(bytes=key_bytes)), master_version)


def _decode(token: str) -> bytes:
    if not token.startswith(PREFIX):
        msg = "not a Ruta field ciphertext"
        raise CiphertextError(msg)
    body = token[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        msg = "ciphertext is not base64url"
        raise CiphertextError(msg) from None
    if len(raw) < _HEADER.size + NONCE_BYTES + 16 or raw[0] != FORMAT_VERSION:
        msg = "ciphertext is truncated or of an unknown format"
        raise CiphertextError(msg)
    return raw


def _aad(header: bytes, subject_type: str, subject_id: str, field_name: str) -> bytes:
    return header + f"|{subject_type}|{subject_id}|{field_name}".encode()


@dataclass(frozen=True)
class SubjectKey:
    """One subject's unwrapped data key: encrypts and decrypts that subject's fields."""

    subject_type: str
    subject_id: str
    key_id: str
    master_version: int
    data_key: bytes = field(repr=False)

    def encrypt(self, field_name: str, plaintext: str) -> str:
        """The ciphertext of one field's value."""
        header = _HEADER.pack(FORMAT_VERSION, UUID(self.key_id).bytes, self.master_version)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.data_key).encrypt(
            nonce,
            plaintext.encode(),
            _aad(header, self.subject_type, self.subject_id, field_name),
        )
        return PREFIX + base64.urlsafe_b64encode(header + nonce + sealed).decode().rstrip("=")

    def decrypt(self, field_name: str, token: str) -> str:
        """The plaintext of one field; CiphertextError when it is not this field's."""
        raw = _decode(token)
        header = raw[: _HEADER.size]
        _, key_bytes, _ = _HEADER.unpack(header)
        if str(UUID(bytes=key_bytes)) != self.key_id:
            msg = "ciphertext was made with another subject's key"
            raise CiphertextError(msg)
        nonce = raw[_HEADER.size : _HEADER.size + NONCE_BYTES]
        try:
            plain = AESGCM(self.data_key).decrypt(
                nonce,
                raw[_HEADER.size + NONCE_BYTES :],
                _aad(header, self.subject_type, self.subject_id, field_name),
            )
        except InvalidTag:
            msg = "ciphertext does not authenticate for this subject and field"
            raise CiphertextError(msg) from None
        return plain.decode()

    def encrypt_optional(self, field_name: str, plaintext: str | None) -> str | None:
        """Encrypt a value that may be absent."""
        return None if plaintext is None else self.encrypt(field_name, plaintext)

    def decrypt_optional(self, field_name: str, token: str | None) -> str | None:
        """Decrypt a value that may be absent."""
        return None if token is None else self.decrypt(field_name, token)


def wrap_data_key(keyring: MasterKeyring, key_id: str, data_key: bytes) -> tuple[bytes, int]:
    """`(nonce + wrapped key, master version)` with the keyring's current master key."""
    version = keyring.current
    nonce = secrets.token_bytes(NONCE_BYTES)
    wrapped = AESGCM(keyring.key(version)).encrypt(nonce, data_key, _wrap_aad(key_id, version))
    return nonce + wrapped, version


def unwrap_data_key(keyring: MasterKeyring, key_id: str, wrapped: bytes, version: int) -> bytes:
    """The data key wrapped by master key `version`."""
    try:
        master = keyring.key(version)
    except KeyError:
        msg = f"master key version {version} is not configured"
        raise CiphertextError(msg) from None
    try:
        return AESGCM(master).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(key_id, version)
        )
    except InvalidTag:
        msg = "data key does not unwrap with its master key"
        raise CiphertextError(msg) from None


def _wrap_aad(key_id: str, version: int) -> bytes:
    return f"ruta-data-key|{key_id}|{version}".encode()


def subject_key_from_record(record: Document, keyring: MasterKeyring) -> SubjectKey:
    """Unwrap a `data_keys` record; DataErasedError when it was destroyed."""
    if record.get("destroyed_at") is not None or record.get("wrapped") is None:
        raise DataErasedError(str(record["subject_type"]), str(record["subject_id"]))
    key_id = str(record["_id"])
    version = int(record["master_version"])
    return SubjectKey(
        subject_type=str(record["subject_type"]),
        subject_id=str(record["subject_id"]),
        key_id=key_id,
        master_version=version,
        data_key=unwrap_data_key(keyring, key_id, bytes(record["wrapped"]), version),
    )


def new_key_record(subject_type: str, subject_id: str, keyring: MasterKeyring) -> Document:
    """A fresh `data_keys` record for a subject."""
    if not re.fullmatch(SUBJECT_TYPE_PATTERN, subject_type) or not re.fullmatch(
        SUBJECT_ID_PATTERN, subject_id
    ):
        msg = "subject type and id must be short identifiers"
        raise ValueError(msg)
    key_id = str(uuid7())
    wrapped, version = wrap_data_key(keyring, key_id, AESGCM.generate_key(bit_length=256))
    return {
        "_id": key_id,
        "subject": f"{subject_type}:{subject_id}",
        "subject_type": subject_type,
        "subject_id": subject_id,
        "wrapped": wrapped,
        "master_version": version,
        "created_at": datetime.now(UTC),
        "destroyed_at": None,
    }


class DataKeyStore:
    """The owning service's `data_keys` collection: one wrapped data key per subject."""

    def __init__(self, database: AsyncDatabase[Document], keyring: MasterKeyring) -> None:
        self._keys: AsyncCollection[Document] = database[DATA_KEYS_COLLECTION]
        self.keyring = keyring

    async def ensure_indexes(self) -> None:
        """One key per subject."""
        await self._keys.create_index("subject", unique=True, name="subject_unique")

    async def create(self, subject_type: str, subject_id: str) -> SubjectKey:
        """The subject's key, made now if it has none; DataErasedError if it was erased."""
        record = new_key_record(subject_type, subject_id, self.keyring)
        try:
            await self._keys.insert_one(record)
        except DuplicateKeyError:
            return await self.get(subject_type, subject_id)
        return subject_key_from_record(record, self.keyring)

    async def get(self, subject_type: str, subject_id: str) -> SubjectKey:
        """The subject's key; DataErasedError if erased, UnknownSubjectKeyError if never made."""
        record = await self._keys.find_one({"subject": f"{subject_type}:{subject_id}"})
        if record is None:
            raise UnknownSubjectKeyError(f"{subject_type}:{subject_id}")
        return subject_key_from_record(record, self.keyring)

    async def for_ciphertext(self, token: str) -> SubjectKey:
        """The key a ciphertext names in its header."""
        record = await self._keys.find_one({"_id": parse_header(token).key_id})
        if record is None:
            raise UnknownSubjectKeyError(parse_header(token).key_id)
        return subject_key_from_record(record, self.keyring)

    async def destroy(self, subject_type: str, subject_id: str) -> bool:
        """Crypto-shred the subject: drop its wrapped key; True when a live key was destroyed.

        A tombstone stays so reads answer "erased" rather than "unknown", and so a
        new key is never made for an erased subject.
        """
        subject = f"{subject_type}:{subject_id}"
        result = await self._keys.update_one(
            {"subject": subject, "destroyed_at": None},
            {"$set": {"wrapped": None, "destroyed_at": datetime.now(UTC)}},
        )
        if result.matched_count == 0:
            # Erasing a subject that never had a key still makes its erasure final.
            tombstone = new_key_record(subject_type, subject_id, self.keyring)
            tombstone.update(wrapped=None, destroyed_at=datetime.now(UTC))
            try:
                await self._keys.insert_one(tombstone)
            except DuplicateKeyError:
                return False
        log.info(
            "data key destroyed", extra={"subject_type": subject_type, "subject_id": subject_id}
        )
        return True

    async def rewrap(self, *, batch_size: int = 500) -> int:
        """Re-wrap every live data key under the current master key; returns how many moved."""
        current = self.keyring.current
        moved = 0
        while True:
            records = await self._keys.find(
                {"destroyed_at": None, "master_version": {"$ne": current}}, limit=batch_size
            ).to_list()
            if not records:
                return moved
            for record in records:
                key_id, old = str(record["_id"]), int(record["master_version"])
                data_key = unwrap_data_key(self.keyring, key_id, bytes(record["wrapped"]), old)
                wrapped, version = wrap_data_key(self.keyring, key_id, data_key)
                result = await self._keys.update_one(
                    {"_id": key_id, "master_version": old, "destroyed_at": None},
                    {"$set": {"wrapped": wrapped, "master_version": version}},
                )
                moved += result.modified_count


def normalise_document_number(value: str) -> str:
    """Document numbers compare without spaces, dashes, dots or slashes, in upper case."""
    folded = unicodedata.normalize("NFKC", value).upper()
    return re.sub(r"[\s\-./]", "", folded)


def normalise_phone(value: str) -> str:
    """Phone numbers compare by their digits (a leading + kept)."""
    folded = unicodedata.normalize("NFKC", value).strip()
    digits = re.sub(r"\D", "", folded)
    return ("+" if folded.startswith("+") else "") + digits


class BlindIndex:
    """Keyed HMAC-SHA256 of normalised values, for exact-match lookups without the plain value."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            msg = "the blind index key must be at least 32 bytes"
            raise ValueError(msg)
        self._key = key

    def compute(self, kind: str, normalised: str) -> str:
        """The index of an already normalised value; `kind` separates namespaces."""
        message = kind.encode() + b"\x00" + normalised.encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def document_number(self, value: str, document_type: str = "any") -> str:
        """The index of a document number (e.g. DNI), after normalisation."""
        return self.compute(f"document:{document_type}", normalise_document_number(value))

    def phone(self, value: str) -> str:
        """The index of a phone number, after normalisation."""
        return self.compute("phone", normalise_phone(value))
