"""Pure rules of the audit pages: the verification result and event types in plain Spanish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

EVENT_LABELS: Final = {
    "case.opened": "Caso abierto",
    "case.updated": "Caso modificado",
    "case.status_changed": "Cambio de estado del caso",
    "case.closed": "Caso cerrado",
    "case.reopened": "Caso reabierto",
    "victim.registered": "Víctima registrada",
    "victim.erased": "Datos de la víctima borrados",
    "relative.registered": "Familiar registrado",
    "consent.recorded": "Consentimiento registrado",
    "consent.withdrawn": "Consentimiento retirado",
    "care.provided": "Atención brindada",
    "referral.requested": "Derivación solicitada",
    "referral.sent": "Derivación enviada",
    "referral.acknowledged": "Derivación recibida",
    "referral.accepted": "Derivación aceptada",
    "referral.declined": "Derivación rechazada",
    "referral.completed": "Derivación completada",
    "referral.revoked": "Derivación revocada",
    "referral.overdue": "Derivación vencida",
    "referral.progress_noted": "Nota de avance",
    "victim.returned_home": "Retorno al lugar de origen",
    "reintegration.milestone_reached": "Hito de reintegración",
    "pii.accessed": "Consulta de datos personales",
    "access.break_glass_granted": "Acceso de emergencia concedido",
}


def event_label(event_type: str) -> str:
    """The Spanish name of an event type (the type itself when it has none yet)."""
    return EVENT_LABELS.get(event_type, event_type)


def verdict(result: Mapping[str, Any]) -> tuple[bool, str]:
    """The verification in one plain sentence."""
    entries, chains = result.get("entries", 0), result.get("chains", 0)
    if result.get("valid"):
        return True, (
            f"El registro está íntegro: se comprobaron {entries} anotaciones en {chains} "
            "cadenas y ninguna fue alterada, borrada ni insertada después."
        )
    broken = result.get("first_broken_link") or {}
    where = broken.get("position")
    place = f" en la anotación número {where}" if where is not None else ""
    return False, (
        f"El registro NO está íntegro: la cadena se rompe{place}. Alguien pudo alterar o borrar "
        "anotaciones. Avise a coordinación y no modifique nada más."
    )
