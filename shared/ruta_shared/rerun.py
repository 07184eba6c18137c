"""What an earlier attempt of a keyed POST already wrote into an aggregate document."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from ruta_shared.aggregate import Change
from ruta_shared.api import operation_derived_id

T = TypeVar("T")

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


# The field of a document (or record) naming, per kind of state transition, the keyed POST
# that made its latest one. Bounded: one entry per kind, each overwritten by the next.
TRANSITIONS_FIELD = "operations"


class Transition:
    """A keyed POST whose effect is a state transition of one document or record.

    A re-run after a crash finds its own stamp (`done_in`) and answers the finished state
    instead of refusing a transition that already happened, or making it twice.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.derived = operation_derived_id(kind)

    def done_in(self, doc: dict[str, Any]) -> bool:
        """Whether this keyed POST made the latest transition of its kind of `doc`."""
        stamps = doc.get(TRANSITIONS_FIELD) or {}
        return self.derived is not None and stamps.get(self.kind) == self.derived

    def stamp(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The `TRANSITIONS_FIELD` to store with the transition (empty without a key)."""
        if self.derived is None:
            return {}
        return {TRANSITIONS_FIELD: {**(doc.get(TRANSITIONS_FIELD) or {}), self.kind: self.derived}}

    def stamped(self, apply: Callable[[dict[str, Any]], Change[T]]) -> Stamped[T]:
        """`apply` whose writes also store this transition's stamp in the document."""
        return Stamped(self, apply)


class Stamped(Generic[T]):
    """A pure change function whose writes carry its keyed transition's stamp."""

    def __init__(self, transition: Transition, apply: Callable[[dict[str, Any]], Change[T]]):
        self.transition = transition
        self._apply = apply

    def __call__(self, doc: dict[str, Any]) -> Change[T]:
        change = self._apply(doc)
        if not change.events or self.transition.derived is None:
            return change
        update = dict(change.update)
        update["$set"] = {**update.get("$set", {}), **self.transition.stamp(doc)}
        return Change(update, change.events, change.result)


def stale_rerun(refused: Exception, apply: object) -> Transition | None:
    """The keyed transition of `apply` when `refused` is a 412 (the document moved past the
    caller's If-Match), which a re-run meets if its first attempt made the transition."""
    if getattr(refused, "status_code", None) != 412 or not isinstance(apply, Stamped):
        return None
    return apply.transition
