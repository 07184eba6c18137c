"""The catalogue: every code intake accepts, with its Spanish label, from one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruta_shared import reference as ref

from ruta_intake.catalogue import codes
from ruta_intake.catalogue.models import Catalogue, CodeLabel


def _pairs(labels: Mapping[Any, str]) -> list[CodeLabel]:
    return [CodeLabel(code=code, label=label) for code, label in labels.items()]


def build_catalogue() -> Catalogue:
    """Offices, regions (INEI ubigeo), crime types, care types, institutions, every code."""
    return Catalogue(
        offices=_pairs(ref.OFFICES),
        regions=_pairs(ref.REGIONS),
        crime_types=_pairs(ref.CRIME_TYPES),
        exploitation_purposes=_pairs(ref.EXPLOITATION_PURPOSES),
        sexes=_pairs(ref.SEXES),
        age_groups=_pairs(ref.AGE_GROUPS),
        arrival_channels=_pairs(ref.ARRIVAL_CHANNELS),
        institution_kinds=_pairs(ref.INSTITUTION_KINDS),
        care_types=_pairs(ref.CARE_TYPES),
        case_statuses=_pairs(ref.CASE_STATUSES),
        closure_reasons=_pairs(codes.CLOSURE_REASONS),
        consent_purposes=_pairs(ref.CONSENT_PURPOSES),
        consent_given_by=_pairs(codes.GIVEN_BY),
        relationships=_pairs(codes.RELATIONSHIPS),
        document_types=_pairs(codes.DOCUMENT_TYPES),
        recruitment_methods=_pairs(codes.RECRUITMENT_METHODS),
        means_of_control=_pairs(codes.MEANS_OF_CONTROL),
        exploitation_settings=_pairs(codes.EXPLOITATION_SETTINGS),
        access_purposes=_pairs(codes.ACCESS_PURPOSES),
    )
