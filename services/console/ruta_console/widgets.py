"""What every template may use: Spanish labels of every code, one-time form keys."""

from __future__ import annotations

import secrets
from typing import Any, Final

from ruta_shared import reference as ref

REFERRAL_STATUSES: Final = {
    "requested": "Solicitada",
    "sent": "Enviada",
    "acknowledged": "Recibida por la institución",
    "accepted": "Aceptada",
    "declined": "Rechazada",
    "completed": "Completada",
    "revoked": "Revocada",
}
SESSION_STATUSES: Final = {"scheduled": "Programada", "held": "Realizada", "cancelled": "Cancelada"}
ROLES: Final = {
    "case_worker": "Profesional de casos",
    "coordinator": "Coordinación",
    "trainer": "Capacitación",
    "auditor": "Auditoría",
    "admin": "Administración",
    "partner": "Institución socia",
}

# Labels that are not in intake's catalogue (referrals and training codes).
LABELS: Final[dict[str, dict[str, str]]] = {
    "offices": dict(ref.OFFICES),
    "regions": dict(ref.REGIONS),
    "institution_kinds": dict(ref.INSTITUTION_KINDS),
    "care_types": dict(ref.CARE_TYPES),
    "case_statuses": dict(ref.CASE_STATUSES),
    "urgencies": dict(ref.URGENCIES),
    "decline_reasons": dict(ref.DECLINE_REASONS),
    "milestones": dict(ref.REINTEGRATION_MILESTONES),
    "training_formats": dict(ref.TRAINING_FORMATS),
    "training_topics": dict(ref.TRAINING_TOPICS),
    "audiences": dict(ref.AUDIENCES),
    "modalities": dict(ref.MODALITIES),
    "trainee_institution_kinds": dict(ref.TRAINEE_INSTITUTION_KINDS),
    "trainee_roles": dict(ref.TRAINEE_ROLES),
    "sexes": dict(ref.SEXES),
    "referral_statuses": REFERRAL_STATUSES,
    "session_statuses": SESSION_STATUSES,
    "roles": ROLES,
}


def new_key() -> str:
    """A fresh Idempotency-Key for one form (a double click creates nothing twice)."""
    return secrets.token_urlsafe(18)


def label(group: str, code: Any, catalogue: dict[str, dict[str, str]] | None = None) -> str:
    """The Spanish label of a code (from intake's catalogue first); the code when unknown."""
    if code is None or code == "":
        return ""
    for source in (catalogue or {}, LABELS):
        labels = source.get(group)
        if labels and str(code) in labels:
            return labels[str(code)]
    return str(code)


TEMPLATE_GLOBALS: Final[dict[str, Any]] = {"labels": LABELS, "label": label, "new_key": new_key}
