"""Pure rules of rectification: the personal data after a patch and which fields changed."""

from __future__ import annotations

from typing import Any

from ruta_intake.victims.personal_data import PERSONAL_FIELDS

Document = dict[str, Any]


def merge_personal_data(current: Document, given: Document) -> Document:
    """The plaintext after a patch: sent fields replace, `None` removes, the rest stays."""
    merged = {**current, **given}
    return {name: value for name, value in merged.items() if value is not None}


def changed_fields(current: Document, merged: Document) -> list[str]:
    """The names of the fields whose value differs (in the fields' own order)."""
    return [name for name in PERSONAL_FIELDS if current.get(name) != merged.get(name)]
