"""Reading and changing a case the caller may see (office scope or break-glass), via Aggregates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ruta_shared.aggregate import Change, Changed, CheckFn
from ruta_shared.outbox import SEQUENCE_FIELD
from ruta_shared.security.break_glass import Grant
from ruta_shared.security.principal import Principal

from ruta_intake.runtime import Runtime, not_found

Document = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class LoadedCase:
    """A case document the caller may see, and the break-glass grant that allowed it, if any."""

    doc: Document
    grant: Grant | None

    @property
    def version(self) -> int:
        """The case's event sequence, its ETag."""
        return int(self.doc[SEQUENCE_FIELD])


async def load_case(*, runtime: Runtime, principal: Principal, case_id: str) -> LoadedCase:
    """The case if it exists and the caller may see it (office scope or break-glass); 404 else."""
    doc = await runtime.cases.load(case_id)
    grant = await runtime.break_glass.ensure_case_access(
        principal=principal, case_id=case_id, office=str(doc["office"])
    )
    return LoadedCase(doc, grant)


def case_access(*, runtime: Runtime, principal: Principal) -> CheckFn:
    """The access check of every change: the same 404 as a read outside the caller's scope."""

    async def check(doc: Document) -> None:
        await runtime.break_glass.ensure_case_access(
            principal=principal, case_id=str(doc["_id"]), office=str(doc["office"])
        )

    return check


async def change_case(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    apply: Callable[[Document], Change[T]],
    if_match: int | None = None,
) -> tuple[T, int]:
    """`apply` the change to a case the caller may see; returns (result, new version).

    With `if_match` (an edit) the case must still be at that version, else 412. Without it
    (an append that overwrites no one) a concurrent change is planned again on the fresh
    document, whose rules `apply` checks again.
    """
    changed: Changed[T] = await runtime.cases.change(
        case_id,
        apply=apply,
        actor=principal.actor,
        expected_version=if_match,
        check=case_access(runtime=runtime, principal=principal),
    )
    return changed.result, changed.version


def find_item(items: list[Document], key: str, value: str) -> Document:
    """The element of an embedded list with `key == value`; 404 when absent."""
    for item in items:
        if item.get(key) == value:
            return item
    raise not_found()
