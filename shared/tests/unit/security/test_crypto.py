"""Field encryption: round trip, tamper checks, master-key rotation, shredding, blind index."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from ruta_shared.security.crypto import (
    BlindIndex,
    CiphertextError,
    DataErasedError,
    new_key_record,
    normalise_document_number,
    normalise_phone,
    parse_header,
    subject_key_from_record,
    unwrap_data_key,
    wrap_data_key,
)
from ruta_shared.security.keys import MasterKeyring, parse_master_keys
from ruta_shared.security.settings import InsecureSettingsError


def keyring(*versions: int, current: int | None = None) -> MasterKeyring:
    keys = {v: secrets.token_bytes(32) for v in versions}
    return MasterKeyring(keys=keys, current=current or max(versions))


def test_round_trip_and_the_header_names_key_and_master_version() -> None:
    ring = keyring(1, 3)
    key = subject_key_from_record(new_key_record("victim", "v-1", ring), ring)
    token = key.encrypt("names", "Rosa Quispe Mamani")
    assert token.startswith("rk1:")
    assert "Rosa" not in token
    assert key.decrypt("names", token) == "Rosa Quispe Mamani"
    header = parse_header(token)
    assert (header.format_version, header.key_id, header.master_version) == (1, key.key_id, 3)
    assert key.encrypt("names", "x") != key.encrypt("names", "x")  # fresh nonce each time
    assert key.decrypt_optional("notes", key.encrypt_optional("notes", None)) is None


def test_a_ciphertext_cannot_move_to_another_field_or_subject() -> None:
    ring = keyring(1)
    first = subject_key_from_record(new_key_record("victim", "v-1", ring), ring)
    token = first.encrypt("document_number", "12345678")
    with pytest.raises(CiphertextError):
        first.decrypt("phone", token)
    second = subject_key_from_record(new_key_record("victim", "v-2", ring), ring)
    with pytest.raises(CiphertextError, match="another subject"):
        second.decrypt("document_number", token)


def test_tampering_is_detected() -> None:
    ring = keyring(1)
    key = subject_key_from_record(new_key_record("victim", "v-1", ring), ring)
    token = key.encrypt("names", "Ana")
    raw = bytearray(base64.urlsafe_b64decode(token[4:] + "=" * (-len(token[4:]) % 4)))
    raw[-1] ^= 1
    forged = "rk1:" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(CiphertextError):
        key.decrypt("names", forged)
    with pytest.raises(CiphertextError):
        key.decrypt("names", "plain text")


def test_master_key_rotation_keeps_old_data_readable() -> None:
    old = keyring(1)
    record = new_key_record("victim", "v-1", old)
    key = subject_key_from_record(record, old)
    token = key.encrypt("names", "Ana")
    # Version 2 is added and becomes current; version 1 stays for unwrapping.
    rotated = MasterKeyring(keys={**old.keys, 2: secrets.token_bytes(32)}, current=2)
    assert subject_key_from_record(record, rotated).decrypt("names", token) == "Ana"
    # Rewrap moves the data key under version 2; old fields still decrypt, no field rewritten.
    data_key = unwrap_data_key(rotated, record["_id"], record["wrapped"], 1)
    wrapped, version = wrap_data_key(rotated, record["_id"], data_key)
    rewrapped = {**record, "wrapped": wrapped, "master_version": version}
    assert version == 2
    only_new = MasterKeyring(keys={2: rotated.keys[2]}, current=2)
    assert subject_key_from_record(rewrapped, only_new).decrypt("names", token) == "Ana"
    # Without version 1 the old wrapping cannot be opened.
    with pytest.raises(CiphertextError, match="version 1 is not configured"):
        subject_key_from_record(record, only_new)


def test_a_destroyed_key_means_erased() -> None:
    ring = keyring(1)
    record = new_key_record("victim", "v-9", ring)
    shredded = {**record, "wrapped": None, "destroyed_at": "2026-01-01T00:00:00Z"}
    with pytest.raises(DataErasedError) as caught:
        subject_key_from_record(shredded, ring)
    assert (caught.value.subject_type, caught.value.subject_id) == ("victim", "v-9")


def test_subject_ids_must_be_identifiers() -> None:
    with pytest.raises(ValueError, match="short identifiers"):
        new_key_record("victim", "Rosa Quispe", keyring(1))


def test_master_keys_parse_and_refuse_weak_input() -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    assert set(parse_master_keys(json.dumps({"1": key, "2": key}).encode())) == {1, 2}
    with pytest.raises(InsecureSettingsError):
        parse_master_keys(b"not json")
    with pytest.raises(InsecureSettingsError):
        parse_master_keys(b'{"one": "abc"}')
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKeyring(keys={1: b"short"}, current=1)
    with pytest.raises(ValueError, match="not random"):
        MasterKeyring(keys={1: bytes(32)}, current=1)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("12345678", "12345678"),
        (" 1234-5678 ", "12345678"),
        ("ab.123/456", "AB123456"),
        ("Ｘ１２３", "X123"),  # full-width characters fold to ASCII
    ],
)
def test_document_numbers_normalise(raw: str, normalised: str) -> None:
    assert normalise_document_number(raw) == normalised


def test_blind_index_matches_normalised_values_and_depends_on_its_key() -> None:
    index = BlindIndex(secrets.token_bytes(32))
    assert index.document_number("1234 5678") == index.document_number("1234-5678")
    assert index.document_number("12345678") != index.document_number("12345679")
    assert "12345678" not in index.document_number("12345678")
    assert BlindIndex(secrets.token_bytes(32)).document_number("12345678") != index.document_number(
        "12345678"
    )
    # Kinds are separate namespaces: a phone and a document with the same digits differ.
    assert index.phone("12345678") != index.document_number("12345678")
    assert normalise_phone("+51 987-654-321") == "+51987654321"
    with pytest.raises(ValueError, match="32 bytes"):
        BlindIndex(b"short")
