"""Stores referrals inside their case's `case_routes` document and publishes their events.

One document per case holds the case's referrals, returns home and milestones, and its
outbox: every change is a read, a pure rule, and one `Outbox.update` guarded by the
document's event sequence, so the change and its events (keyed by case id, in order) are
written together or not at all. A concurrent change of the same case retries the rule.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from ruta_shared.api import problem, version_conflict
from ruta_shared.events import Actor, EventData
from ruta_shared.events.catalog.referrals import ConsentOverrideGranted, ReferralRequested
from ruta_shared.outbox import SEQUENCE_FIELD, ConcurrencyConflictError, Outbox
from ruta_shared.security.crypto import DataKeyStore
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_referrals.intake.projection import CASE_ROUTES, VICTIMS, consent_allows
from ruta_referrals.referrals.models import (
    ProgressNoteRead,
    ReferralCreate,
    ReferralDetails,
    ReferralRead,
)
from ruta_referrals.referrals.rules import (
    STATUS_LABELS,
    Action,
    Change,
    Deadlines,
    TransitionError,
    apply_action,
    event_fields,
    is_overdue,
    overdue_change,
)

log = logging.getLogger(__name__)

MAX_RETRIES: Final = 8
NOT_FOUND: Final = "Derivación no encontrada."

Document = dict[str, Any]
Referral = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Mutation:
    """What a rule decided for one case document: the update, its events and a result."""

    update: dict[str, dict[str, Any]]
    payloads: list[EventData]
    result: Any = None


Rule = Callable[[Document], Awaitable[Mutation]]


def reason_field(referral_id: str) -> str:
    """The encryption field name of a referral's reason (binds the ciphertext to it)."""
    return f"referral.{referral_id}.reason"


def facts_field(referral_id: str) -> str:
    """The encryption field name of a referral's shared facts."""
    return f"referral.{referral_id}.shared_facts"


def note_field(referral_id: str, note_id: str) -> str:
    """The encryption field name of one progress note."""
    return f"referral.{referral_id}.note.{note_id}"


def override_field(referral_id: str) -> str:
    """The encryption field name of a consent override's justification."""
    return f"referral.{referral_id}.override_justification"


def to_staff_read(case: Document, referral: Referral) -> ReferralRead:
    """The staff view of a stored referral."""
    return ReferralRead(
        referral_id=referral["referral_id"],
        case_id=case["_id"],
        case_code=case["case_code"],
        office=case["office"],
        victim_id=referral["victim_id"],
        institution_id=referral["institution_id"],
        institution_kind=referral["institution_kind"],
        direction=referral["direction"],
        services_requested=referral["services_requested"],
        urgency=referral["urgency"],
        due_on=referral.get("due_on"),
        status=referral["status"],
        status_label=STATUS_LABELS[referral["status"]],
        channel=referral.get("channel"),
        consent_override=referral.get("consent_override") is not None,
        created_at=referral["created_at"],
        sent_at=referral.get("sent_at"),
        acknowledged_at=referral.get("acknowledged_at"),
        accepted_at=referral.get("accepted_at"),
        declined_at=referral.get("declined_at"),
        decline_reason=referral.get("decline_reason"),
        completed_at=referral.get("completed_at"),
        revoked_at=referral.get("revoked_at"),
        deadline_stage=referral.get("deadline_stage"),
        deadline_at=referral.get("deadline_at"),
        overdue=is_overdue(referral),
        overdue_stage=referral.get("overdue_stage"),
        overdue_since=referral.get("overdue_since"),
        has_shared_facts=referral.get("shared_facts") is not None,
        version=referral["version"],
    )


def find_referral(case: Document, referral_id: str) -> Referral | None:
    """The referral of `case` with this id."""
    for referral in case.get("referrals") or []:
        if referral["referral_id"] == referral_id:
            return dict(referral)
    return None


def replace_referral(case: Document, updated: Referral) -> list[Referral]:
    """The case's referrals with one replaced."""
    return [
        updated if r["referral_id"] == updated["referral_id"] else r
        for r in case.get("referrals") or []
    ]


class CaseRouteStore:
    """Referrals, returns home and milestones of cases, with their events."""

    def __init__(
        self,
        database: AsyncDatabase[Document],
        *,
        outbox: Outbox,
        keys: DataKeyStore,
        deadlines: Deadlines,
    ) -> None:
        self.cases: AsyncCollection[Document] = database[CASE_ROUTES]
        self.victims: AsyncCollection[Document] = database[VICTIMS]
        self._outbox = outbox
        self._keys = keys
        self._deadlines = deadlines

    async def ensure_indexes(self) -> None:
        """Lookups by referral id and by institution."""
        await self.cases.create_index("referrals.referral_id", name="referral_id")
        await self.cases.create_index("referrals.institution_id", name="referral_institution")

    async def get_case(self, case_id: str) -> Document | None:
        """A case known from intake's events, with its route."""
        return await self.cases.find_one({"_id": case_id})

    async def get_victim(self, victim_id: str) -> Document | None:
        """A victim known from intake's events (case, office, consent)."""
        return await self.victims.find_one({"_id": victim_id})

    async def find(self, referral_id: str) -> tuple[Document, Referral] | None:
        """A referral and its case document."""
        case = await self.cases.find_one({"referrals.referral_id": referral_id})
        if case is None:
            return None
        referral = find_referral(case, referral_id)
        return None if referral is None else (case, referral)

    async def mutate(self, case_id: str, rule: Rule, *, actor: Actor) -> Any:
        """Read the case, apply `rule`, write the update and its events; retry on a race."""
        for _ in range(MAX_RETRIES):
            case = await self.get_case(case_id)
            if case is None:
                raise problem(404, "Caso no encontrado.")
            mutation = await rule(case)
            if not mutation.payloads:
                return mutation.result
            try:
                await self._outbox.update(
                    self.cases,
                    doc_id=case_id,
                    expected_sequence=int(case[SEQUENCE_FIELD]),
                    update=mutation.update,
                    subject=case_id,
                    payloads=mutation.payloads,
                    actor=actor,
                )
            except ConcurrencyConflictError:
                continue
            return mutation.result
        raise problem(409, "El caso cambió varias veces seguidas: vuelva a intentarlo.")

    async def create(
        self,
        *,
        case_id: str,
        body: ReferralCreate,
        institution: Document,
        principal: Principal,
        override_allowed: bool,
    ) -> tuple[Document, Referral]:
        """Create a referral once the consent gate passes (or a coordinator overrides it)."""
        victim = await self.get_victim(body.victim_id)
        if victim is None or victim.get("case_id") != case_id:
            raise problem(404, "La víctima no está registrada en este caso.")
        consented = consent_allows(victim, institution["kind"])
        justification = body.consent_override_justification
        if justification is not None and not override_allowed:
            raise problem(
                403, "Solo coordinación puede autorizar una derivación sin consentimiento."
            )
        if not consented and justification is None:
            raise problem(
                409,
                "La víctima no dio su consentimiento para comunicar datos a este tipo de "
                "institución. Registre el consentimiento o pida a coordinación una excepción "
                "justificada.",
                code="consent_required",
            )
        override = justification is not None and not consented
        key = await self._keys.create("victim", body.victim_id)
        referral_id = str(uuid7())
        now = datetime.now(UTC)
        referral: Referral = {
            "referral_id": referral_id,
            "victim_id": body.victim_id,
            "institution_id": institution["_id"],
            "institution_kind": institution["kind"],
            "direction": body.direction,
            "services_requested": list(body.services_requested),
            "urgency": body.urgency,
            "due_on": body.due_on.isoformat() if body.due_on else None,
            "reason": key.encrypt(reason_field(referral_id), body.reason),
            "shared_facts": key.encrypt_optional(facts_field(referral_id), body.shared_facts),
            "status": "requested",
            "version": 1,
            "created_at": now,
            "created_by": principal.id,
            "consent_override": None,
            "deadline_stage": None,
            "deadline_at": None,
            "overdue_stage": None,
            "overdue_stages": [],
            "progress_notes": [],
        }
        if override and justification is not None:
            referral["consent_override"] = {
                "granted_by": principal.id,
                "role": principal.role.value,
                "granted_at": now,
                "justification": key.encrypt(override_field(referral_id), justification),
            }

        async def rule(case: Document) -> Mutation:
            common = event_fields(referral, case_id=case_id, office=case["office"])
            payloads: list[EventData] = [
                ReferralRequested(
                    **common,
                    direction=body.direction,
                    services_requested=list(body.services_requested),
                    urgency=body.urgency,
                    due_on=body.due_on,
                    consent_override=override,
                    requested_at=now,
                )
            ]
            if override:
                payloads.append(ConsentOverrideGranted(**common, granted_at=now))
            return Mutation({"$push": {"referrals": referral}}, payloads, case)

        case = await self.mutate(case_id, rule, actor=principal.actor)
        if override:
            # The justification itself stays encrypted in the referral; the log names who and what.
            log.warning(
                "consent override granted",
                extra={
                    "referral_id": referral_id,
                    "case_id": case_id,
                    "victim_id": body.victim_id,
                    "institution_kind": institution["kind"],
                    "user_id": principal.id,
                    "role": principal.role.value,
                },
            )
        return case, referral

    async def act(
        self,
        *,
        referral_id: str,
        action: Action,
        actor: Actor,
        expected_version: int | None,
        visible: Callable[[Document, Referral], bool],
        channel: str | None = None,
        decline_reason: str | None = None,
        note: str | None = None,
        author_role: str | None = None,
    ) -> tuple[Document, Referral]:
        """Apply a status action (or a progress note) to a referral the caller may see."""
        found = await self.find(referral_id)
        if found is None or not visible(*found):
            raise problem(404, NOT_FOUND)
        case_id = found[0]["_id"]
        encrypted_note: Document | None = None
        if note is not None:
            key = await self._keys.create("victim", found[1]["victim_id"])
            note_id = str(uuid7())
            encrypted_note = {
                "note_id": note_id,
                "written_at": datetime.now(UTC),
                "author_id": actor.id,
                "author_role": author_role or actor.role,
                "text": key.encrypt(note_field(referral_id, note_id), note),
            }

        async def rule(case: Document) -> Mutation:
            referral = find_referral(case, referral_id)
            if referral is None or not visible(case, referral):
                raise problem(404, NOT_FOUND)
            if expected_version is not None and referral["version"] != expected_version:
                raise version_conflict()
            try:
                change: Change = apply_action(
                    referral,
                    action,
                    now=datetime.now(UTC),
                    deadlines=self._deadlines,
                    case_id=case_id,
                    office=case["office"],
                    channel=channel,
                    decline_reason=decline_reason,
                )
            except TransitionError as exc:
                raise problem(409, exc.detail, status=exc.status) from None
            updated = change.referral
            if encrypted_note is not None:
                updated["progress_notes"] = [*updated.get("progress_notes", []), encrypted_note]
            return Mutation(
                {"$set": {"referrals": replace_referral(case, updated)}},
                change.payloads,
                (case, updated),
            )

        result: tuple[Document, Referral] = await self.mutate(case_id, rule, actor=actor)
        return result

    async def details(self, referral: Referral, *, include_notes: bool = True) -> ReferralDetails:
        """Decrypt a referral's free text (callers record the read in the access log first)."""
        key = await self._keys.get("victim", referral["victim_id"])
        rid = referral["referral_id"]
        notes = [
            ProgressNoteRead(
                note_id=n["note_id"],
                written_at=n["written_at"],
                author_role=n["author_role"],
                text=key.decrypt(note_field(rid, n["note_id"]), n["text"]),
            )
            for n in (referral.get("progress_notes") or [] if include_notes else [])
        ]
        return ReferralDetails(
            referral_id=rid,
            reason=key.decrypt(reason_field(rid), referral["reason"]),
            shared_facts=key.decrypt_optional(facts_field(rid), referral.get("shared_facts")),
            progress_notes=notes,
        )

    async def referrals(
        self, query: Document, keep: Callable[[Document, Referral], bool]
    ) -> list[tuple[Document, Referral]]:
        """Referrals of the cases matching `query` that `keep` accepts, newest first."""
        found = [
            (case, dict(referral))
            async for case in self.cases.find(query, {"_outbox": 0})
            for referral in case.get("referrals") or []
            if keep(case, referral)
        ]
        found.sort(key=lambda pair: pair[1]["referral_id"], reverse=True)  # UUIDv7: by time
        return found

    async def mark_overdue(self, now: datetime, actor: Actor) -> list[Referral]:
        """Publish `referral.overdue` once for every stage whose deadline passed; return them."""
        marked: list[Referral] = []
        candidates = await self.cases.find(
            {"referrals.deadline_at": {"$lte": now}}, {"_id": 1}
        ).to_list()
        for candidate in candidates:

            async def rule(case: Document) -> Mutation:
                referrals = list(case.get("referrals") or [])
                payloads: list[EventData] = []
                changed: list[Referral] = []
                for index, referral in enumerate(referrals):
                    change = overdue_change(
                        referral, now=now, case_id=case["_id"], office=case["office"]
                    )
                    if change is not None:
                        referrals[index] = change.referral
                        payloads += change.payloads
                        changed.append(change.referral)
                return Mutation({"$set": {"referrals": referrals}}, payloads, changed)

            marked += await self.mutate(candidate["_id"], rule, actor=actor)
        return marked

    async def count_overdue(self) -> int:
        """How many referrals are waiting on an institution past their deadline."""
        rows = await self.referrals(
            {"referrals.overdue_stage": {"$in": ["acknowledgement", "answer"]}},
            lambda _c, r: is_overdue(r),
        )
        return len(rows)
