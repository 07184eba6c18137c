"""Pure rules of the referral pages: form -> request body, which actions a status allows."""

from __future__ import annotations

from typing import Any, Final

from ruta_console.cases.rules import many
from ruta_console.rules import compact, flag, text

# What staff may do from each status (the service checks again; these only choose buttons).
STAFF_ACTIONS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "requested": (("send", "Enviar a la institución"), ("revoke", "Revocar")),
    # For institutions without the partner API, staff record their answers.
    "sent": (
        ("acknowledge", "Registrar que la institución la recibió"),
        ("accept", "Registrar que la aceptó"),
        ("revoke", "Revocar"),
    ),
    "acknowledged": (("accept", "Registrar que la aceptó"), ("revoke", "Revocar")),
    "accepted": (("complete", "Marcar completada"), ("revoke", "Revocar")),
}
PARTNER_ACTIONS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "sent": (("acknowledge", "Acusar recibo"), ("accept", "Aceptar")),
    "acknowledged": (("accept", "Aceptar"),),
    "accepted": (("complete", "Marcar completada"),),
}
DECLINABLE: Final = frozenset({"sent", "acknowledged"})
NOTES_ALLOWED: Final = frozenset({"acknowledged", "accepted"})
ACTION_DONE: Final = {
    "send": "Derivación enviada.",
    "revoke": "Derivación revocada.",
    "complete": "Derivación completada.",
    "acknowledge": "Recibo confirmado.",
    "accept": "Derivación aceptada.",
    "decline": "Derivación rechazada.",
}


def referral_body(form: Any) -> dict[str, Any]:
    """ReferralCreate; a justification means a coordinator overrides a missing consent."""
    return compact(
        {
            "victim_id": text(form, "victim_id"),
            "institution_id": text(form, "institution_id"),
            "reason": text(form, "reason"),
            "services_requested": many(form, "services_requested"),
            "urgency": text(form, "urgency"),
            "due_on": text(form, "due_on"),
            "shared_facts": text(form, "shared_facts"),
            "consent_override_justification": text(form, "consent_override_justification"),
        }
    )


def return_body(form: Any) -> dict[str, Any]:
    """ReturnHomeCreate."""
    return compact(
        {
            "region_of_origin": text(form, "region_of_origin"),
            "returned_on": text(form, "returned_on"),
            "funded": flag(form, "funded"),
        }
    ) | {"funded": flag(form, "funded")}


def milestone_body(form: Any) -> dict[str, Any]:
    """MilestoneCreate."""
    return compact(
        {
            "milestone": text(form, "milestone"),
            "reached_on": text(form, "reached_on"),
            "region": text(form, "region"),
        }
    )
