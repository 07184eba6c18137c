"""Pure rules of the registry: the seed institutions, webhook secrets, the read view."""

from __future__ import annotations

import base64
import secrets
from typing import Any, Final

from ruta_shared.reference import INSTITUTION_KINDS

from ruta_referrals.institutions.models import INTEGRATIONS, InstitutionRead

SECRET_FIELD: Final = "webhook_secret"  # noqa: S105 (a field name)
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (a format prefix)

Document = dict[str, Any]

# One institution per kind the domain file and the 2017 report name (ids are stable slugs).
SEED: Final[list[Document]] = [
    {"_id": "fistrap-lima", "kind": "prosecutor", "region": "15",
     "name": "Fiscalía Especializada en Trata de Personas (FISTRAP) de Lima"},
    {"_id": "dgdpaj", "kind": "public_defence", "region": "15",
     "name": "Dirección General de Defensa Pública y Acceso a la Justicia (DGDPAJ)"},
    {"_id": "upe-lima", "kind": "child_protection", "region": "15",
     "name": "Unidad de Protección Especial (UPE) de Lima, MIMP"},
    {"_id": "car-lima", "kind": "shelter_car", "region": "15",
     "name": "Centro de Acogida Residencial (CAR)"},
    {"_id": "hrt-loreto", "kind": "refuge_hrt", "region": "16",
     "name": "Hogar de Refugio Temporal (HRT) de Loreto"},
    {"_id": "cem-iquitos", "kind": "cem", "region": "16",
     "name": "Centro Emergencia Mujer (CEM) de Iquitos"},
    {"_id": "pnp-dirintrap", "kind": "police", "region": "15",
     "name": "Policía Nacional del Perú (PNP), División de Trata de Personas"},
    {"_id": "demuna-lima", "kind": "demuna", "region": "15",
     "name": "Defensoría Municipal del Niño y del Adolescente (DEMUNA) de Lima"},
    {"_id": "salud-minsa", "kind": "health", "region": "15",
     "name": "Establecimiento de salud (MINSA)"},
    {"_id": "sunafil", "kind": "labour_inspection", "region": "15",
     "name": "Superintendencia Nacional de Fiscalización Laboral (SUNAFIL)"},
    {"_id": "impulsa-peru", "kind": "employment_programme", "region": "15",
     "name": "Programa Impulsa Perú"},
    {"_id": "abogados-pro-bono", "kind": "pro_bono_lawyer", "region": "15",
     "name": "Red de abogados pro bono"},
    {"_id": "ong-aliada", "kind": "ngo", "region": "15",
     "name": "Organización no gubernamental aliada"},
    {"_id": "consulado", "kind": "consulate", "region": None,
     "name": "Consulado (víctimas extranjeras)"},
]  # fmt: skip


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks signing secret (256 random bits)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def to_read(doc: Document) -> InstitutionRead:
    """The staff view of a stored institution."""
    return InstitutionRead(
        id=doc["_id"],
        kind=doc["kind"],
        kind_label=INSTITUTION_KINDS[doc["kind"]],
        name=doc["name"],
        region=doc.get("region"),
        contact=doc.get("contact"),
        integration=doc.get("integration", "manual"),
        integration_label=INTEGRATIONS[doc.get("integration", "manual")],
        webhook_url=doc.get("webhook_url"),
        has_webhook_secret=doc.get(SECRET_FIELD) is not None,
        active=doc.get("active", True),
        version=doc.get("version", 1),
    )
