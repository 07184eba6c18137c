"""The duplicate check of document numbers, which never tells one office of another's people.

A match in a case the caller may see (its offices, or a break-the-glass grant) answers 409
naming the victim, as before; a match only elsewhere lets the registration go on as a new
victim, with a neutral notice and a possible duplicate for a coordinator to resolve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.api import problem
from ruta_shared.events.catalog.intake import VictimPossibleDuplicateDetected
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal

from ruta_intake.duplicates.rules import DUPLICATE_DETAIL, NEUTRAL_NOTICE, new_possible_duplicate
from ruta_intake.runtime import Runtime
from ruta_intake.victims.personal_data import PENDING, committed_pending

Document = dict[str, Any]
# Enough for any real person; bounds the work of one check.
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Match:
    """A registered victim with the same document."""

    victim_id: str
    case_id: str
    office: str


@dataclass(frozen=True)
class Screened:
    """One document checked: its blind index and the matches the caller may not see."""

    index: str | None
    hidden: list[Match] = field(default_factory=list)

    @property
    def notice(self) -> str | None:
        """The neutral notice for the registering user, when something matched elsewhere."""
        return NEUTRAL_NOTICE if self.hidden else None


@dataclass(frozen=True)
class Candidate:
    """A document to check: where it is in the request, its index, and whether to accept it."""

    field: str
    index: str | None
    allow_duplicate: bool = False


async def registered_matches(
    *, runtime: Runtime, index: str, exclude: str | None = None
) -> list[Match]:
    """Registered (not erased) victims with this document index, found by `_id` only.

    Personal data written for a case that was then never stored is ignored: only victims
    their case really lists, with this document now, count.
    """
    entry = await runtime.document_index.find_one({"_id": index})
    matches = []
    for victim_id in (entry or {}).get("victim_ids", [])[-MAX_CANDIDATES:]:
        if victim_id == exclude:
            continue
        stored = await runtime.victim_data.find_one(
            {"_id": victim_id}, {"case_id": 1, "erased_at": 1, "document_index": 1, PENDING: 1}
        )
        if stored is None or stored.get("erased_at") is not None:
            continue
        case = await runtime.cases.collection.find_one(
            {"_id": stored["case_id"]}, {"victims": 1, "office": 1}
        )
        person = next(
            (v for v in (case or {}).get("victims", []) if v["victim_id"] == victim_id), None
        )
        if case is None or person is None or person.get("erased_at") is not None:
            continue
        pending = committed_pending(stored, person)
        current = pending["document_index"] if pending else stored.get("document_index")
        if current == index:
            matches.append(Match(victim_id, str(case["_id"]), str(case["office"])))
    return matches


async def can_see(*, runtime: Runtime, principal: Principal, match: Match) -> bool:
    """Whether the caller may see the matched victim's case (offices or an active grant)."""
    if in_office_scope(principal, match.office):
        return True
    grant = await runtime.break_glass.active_grant(principal=principal, case_id=match.case_id)
    return grant is not None


async def screen(
    *,
    runtime: Runtime,
    principal: Principal,
    candidates: Sequence[Candidate],
    exclude: str | None = None,
) -> list[Screened]:
    """Check documents against the registered ones; 409 naming a victim the caller may see.

    A candidate marked `allow_duplicate` passes the visible matches (a person checked the
    warning); matches the caller may not see never block and are never named.
    """
    seen: set[str] = set()
    screened = []
    for candidate in candidates:
        if candidate.index is None:
            screened.append(Screened(None))
            continue
        if candidate.index in seen:
            raise RuleViolationError(
                candidate.field, "el mismo documento aparece dos veces en la solicitud"
            )
        seen.add(candidate.index)
        hidden = []
        for match in await registered_matches(
            runtime=runtime, index=candidate.index, exclude=exclude
        ):
            if not await can_see(runtime=runtime, principal=principal, match=match):
                hidden.append(match)
            elif not candidate.allow_duplicate:
                raise problem(
                    409,
                    DUPLICATE_DETAIL,
                    existing_victim_id=match.victim_id,
                    errors=[
                        {
                            "field": candidate.field,
                            "type": "duplicate",
                            "message": "ya registrado para otra víctima",
                        }
                    ],
                )
        screened.append(Screened(candidate.index, hidden))
    return screened


async def record_possible_duplicates(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    office: str,
    victim_id: str,
    screened: Screened,
    now: datetime,
) -> list[VictimPossibleDuplicateDetected]:
    """Write the victim's possible duplicates (pending) and the events the case change carries.

    They are written before the case, like personal data: one counts only once the case
    lists its id in the victim's `duplicate_ids`.
    """
    events = []
    for match in screened.hidden:
        duplicate = new_possible_duplicate(
            case_id=case_id,
            office=office,
            victim_id=victim_id,
            other_case_id=match.case_id,
            other_office=match.office,
            other_victim_id=match.victim_id,
            now=now,
        )
        await runtime.duplicates.insert(duplicate, events=[], actor=principal.actor)
        events.append(
            VictimPossibleDuplicateDetected(
                case_id=case_id, victim_id=victim_id, duplicate_id=duplicate["_id"], detected_at=now
            )
        )
    return events
