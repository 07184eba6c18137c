"""The catalogue's body: every code intake accepts, with its Spanish label."""

from __future__ import annotations

from pydantic import BaseModel


class CodeLabel(BaseModel):
    """A code and its Spanish label."""

    code: str
    label: str


class Catalogue(BaseModel):
    """Every code the intake API accepts, with its Spanish label."""

    offices: list[CodeLabel]
    regions: list[CodeLabel]
    crime_types: list[CodeLabel]
    exploitation_purposes: list[CodeLabel]
    sexes: list[CodeLabel]
    age_groups: list[CodeLabel]
    arrival_channels: list[CodeLabel]
    institution_kinds: list[CodeLabel]
    care_types: list[CodeLabel]
    case_statuses: list[CodeLabel]
    closure_reasons: list[CodeLabel]
    consent_purposes: list[CodeLabel]
    consent_given_by: list[CodeLabel]
    relationships: list[CodeLabel]
    document_types: list[CodeLabel]
    recruitment_methods: list[CodeLabel]
    means_of_control: list[CodeLabel]
    exploitation_settings: list[CodeLabel]
    access_purposes: list[CodeLabel]
