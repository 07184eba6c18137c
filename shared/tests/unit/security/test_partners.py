"""Partner credential logic: API key format, secret matching, rotation with and without grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ruta_shared.security.partners import (
    IssuedCredential,
    hash_secret,
    rotated_secrets,
    secret_matches,
    split_api_key,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(secret: str, expires_at: datetime | None = None) -> dict[str, object]:
    return {"id": secret, "hash": hash_secret(secret), "created_at": NOW, "expires_at": expires_at}


def test_api_key_is_client_id_and_secret() -> None:
    issued = IssuedCredential(
        institution_id="fistrap-lima", client_id="ruta-partner-abc", client_secret="s3cr3t"
    )
    assert split_api_key(issued.api_key) == ("ruta-partner-abc", "s3cr3t")
    assert split_api_key("ruta-partner-abc") is None
    assert split_api_key("someone-else.s3cr3t") is None


def test_secrets_are_stored_hashed_and_match_until_they_expire() -> None:
    stored = [entry("old", NOW + timedelta(minutes=5)), entry("new")]
    assert "old" not in str(stored[0]["hash"])
    assert secret_matches(stored, "old", NOW)
    assert secret_matches(stored, "new", NOW)
    assert not secret_matches(stored, "old", NOW + timedelta(minutes=6))
    assert not secret_matches(stored, "other", NOW)


def test_rotation_without_grace_drops_the_old_secret_at_once() -> None:
    after = rotated_secrets([entry("old")], entry("new"), NOW, timedelta(0))
    assert not secret_matches(after, "old", NOW)
    assert secret_matches(after, "new", NOW)


def test_rotation_with_grace_keeps_the_old_secret_for_a_while() -> None:
    after = rotated_secrets([entry("old")], entry("new"), NOW, timedelta(hours=1))
    assert secret_matches(after, "old", NOW + timedelta(minutes=59))
    assert not secret_matches(after, "old", NOW + timedelta(minutes=61))
    assert secret_matches(after, "new", NOW + timedelta(days=30))
