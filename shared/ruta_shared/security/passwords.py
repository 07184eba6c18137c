"""Password hashing with argon2id (argon2-cffi); verifying costs the same for unknown users."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong username costs as much as a
# wrong password and response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("ruta-dummy-password-for-timing")


class WeakPasswordError(ValueError):
    """The password is too short or too long."""


def check_password_policy(password: str) -> None:
    """Raise WeakPasswordError unless the password has a sensible length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"La contraseña debe tener al menos {MIN_PASSWORD_LENGTH} caracteres."
        raise WeakPasswordError(msg)
    if len(password) > MAX_PASSWORD_LENGTH:
        msg = f"La contraseña no puede tener más de {MAX_PASSWORD_LENGTH} caracteres."
        raise WeakPasswordError(msg)


def hash_password(password: str) -> str:
    """An argon2id hash (salt and parameters included) of a policy-conforming password."""
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (unknown user) it still spends the same time."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
