"""What an earlier attempt of a keyed POST already wrote into an aggregate document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ruta_shared.api import operation_derived_id

# The field of an appended record that names the keyed POST that wrote it. The record's own
# id keeps its time order (lists sort by it); this one lets a re-run find the record.
OPERATION_FIELD = "operation_id"


def operation_marker(kind: str) -> dict[str, str]:
    """The field to store in a new record of `kind` (empty without an Idempotency-Key)."""
    derived = operation_derived_id(kind)
    return {} if derived is None else {OPERATION_FIELD: derived}


def earlier_attempt(
    records: Iterable[dict[str, Any]], marker: dict[str, str]
) -> dict[str, Any] | None:
    """The record an earlier attempt of this keyed POST appended, if any.

    Used inside an aggregate's pure `apply`: a re-run that finds its record returns it
    (no update, no events) instead of appending a second one.
    """
    if not marker:
        return None
    derived = marker[OPERATION_FIELD]
    return next((r for r in records if r.get(OPERATION_FIELD) == derived), None)
