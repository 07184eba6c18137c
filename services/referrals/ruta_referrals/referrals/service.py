"""Referral operations over their case's `case_routes` document, written with their events.

One document per case holds the case's referrals, returns home and milestones, and its
outbox: every change goes through `runtime.cases` (`ruta_shared.aggregate.Aggregates`), a
pure rule and one compare-and-set write of the change and its events (keyed by case id, in
order). A concurrent change of the same case plans the rule again on the fresh document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from ruta_shared.aggregate import Change
from ruta_shared.api import Page, PageParams, problem, version_conflict
from ruta_shared.events import Actor, EventData
from ruta_shared.events.catalog.referrals import ConsentOverrideGranted, ReferralRequested
from ruta_shared.rerun import earlier_attempt, operation_marker
from ruta_shared.security.permissions import in_office_scope
from ruta_shared.security.principal import Principal
from uuid6 import uuid7

from ruta_referrals.intake_projection.intake_api import IntakeLookup
from ruta_referrals.intake_projection.rules import consent_allows
from ruta_referrals.intake_projection.service import known_case, known_victim
from ruta_referrals.referrals.models import (
    ProgressNoteRead,
    ReferralCreate,
    ReferralDetails,
    ReferralRead,
)
from ruta_referrals.referrals.rules import (
    Action,
    Visible,
    apply_action,
    consent_gate,
    event_fields,
    facts_field,
    find_referral,
    new_referral,
    note_field,
    office_query,
    reason_field,
    replace_referral,
    require_send_consent,
    staff_visible,
    to_staff_read,
)
from ruta_referrals.runtime import Runtime, case_not_found

log = logging.getLogger(__name__)

NOT_FOUND: Final = "Derivación no encontrada."

Document = dict[str, Any]
Referral = dict[str, Any]
T = TypeVar("T")


def page_of(
    rows: Sequence[tuple[Document, Referral]],
    page: PageParams,
    read: Callable[[Document, Referral], T],
) -> Page[T]:
    """One page of (case, referral) rows, each turned into its read model."""
    chosen = rows[page.offset : page.offset + page.limit]
    return Page(
        items=[read(c, r) for c, r in chosen], total=len(rows), limit=page.limit, offset=page.offset
    )


async def ensure_referral_indexes(*, runtime: Runtime) -> None:
    """Lookups by referral id and by institution."""
    cases = runtime.cases.collection
    await cases.create_index("referrals.referral_id", name="referral_id")
    await cases.create_index("referrals.institution_id", name="referral_institution")


async def get_victim(*, runtime: Runtime, victim_id: str) -> Document | None:
    """A victim known from intake's events (case, office, consent)."""
    return await runtime.victims.find_one({"_id": victim_id})


async def visible_case(
    *, runtime: Runtime, principal: Principal, case_id: str, intake: IntakeLookup | None = None
) -> Document:
    """A case known from intake (events, or its API when given) in the caller's offices; 404."""
    case = await known_case(runtime=runtime, case_id=case_id, intake=intake)
    if case is None or not in_office_scope(principal, case["office"]):
        raise case_not_found()
    return case


async def locate_referral(
    *, runtime: Runtime, referral_id: str
) -> tuple[Document, Referral] | None:
    """A referral and its case document."""
    case = await runtime.cases.collection.find_one(
        {"referrals.referral_id": referral_id}, {"_outbox": 0}
    )
    if case is None:
        return None
    referral = find_referral(case, referral_id)
    return None if referral is None else (case, referral)


async def visible_referral(
    *, runtime: Runtime, referral_id: str, visible: Visible
) -> tuple[Document, Referral]:
    """A referral and its case that `visible` lets the caller see; 404 otherwise."""
    found = await locate_referral(runtime=runtime, referral_id=referral_id)
    if found is None or not visible(*found):
        raise problem(404, NOT_FOUND)
    return found


async def referral_institution(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    body: ReferralCreate,
    intake: IntakeLookup,
) -> Document:
    """The active institution a new referral of a visible case goes to (404/422 otherwise)."""
    await visible_case(runtime=runtime, principal=principal, case_id=case_id, intake=intake)
    institution = await runtime.institutions.find_one({"_id": body.institution_id})
    if institution is None or not institution.get("active", True):
        raise problem(422, "La institución no existe o no está activa.")
    return institution


async def create_referral(
    *,
    runtime: Runtime,
    principal: Principal,
    case_id: str,
    body: ReferralCreate,
    institution: Document,
    override_allowed: bool,
    intake: IntakeLookup,
) -> ReferralRead:
    """Create a referral once the consent gate passes (or a coordinator overrides it)."""
    victim = await known_victim(
        runtime=runtime,
        case_id=case_id,
        victim_id=body.victim_id,
        consent_to=institution["kind"],
        intake=intake,
    )
    if victim is None or victim.get("case_id") != case_id:
        raise problem(404, "La víctima no está registrada en este caso.")
    override = consent_gate(
        consented=consent_allows(victim, institution["kind"]),
        justification=body.consent_override_justification,
        override_allowed=override_allowed,
    )
    key = await runtime.keys.create("victim", body.victim_id)
    now = datetime.now(UTC)
    referral = new_referral(
        body,
        referral_id=str(uuid7()),
        institution=institution,
        principal=principal,
        now=now,
        key=key,
        override=override,
    )
    # Under an Idempotency-Key a re-run (after a crash) finds the referral it already wrote.
    marker = operation_marker("referral")

    def apply(case: Document) -> Change[ReferralRead]:
        if (written := earlier_attempt(case.get("referrals") or [], marker)) is not None:
            return Change(result=to_staff_read(case, written))
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
        stored = {**referral, **marker}
        return Change({"$push": {"referrals": stored}}, payloads, to_staff_read(case, referral))

    changed = await runtime.cases.change(case_id, apply=apply, actor=principal.actor)
    if override and changed.written:
        # The justification itself stays encrypted in the referral; the log names who and what.
        log.warning(
            "consent override granted",
            extra={
                "referral_id": referral["referral_id"],
                "case_id": case_id,
                "victim_id": body.victim_id,
                "institution_kind": institution["kind"],
                "user_id": principal.id,
                "role": principal.role.value,
            },
        )
    return changed.result


async def act_on_referral(
    *,
    runtime: Runtime,
    referral_id: str,
    action: Action,
    actor: Actor,
    expected_version: int | None,
    visible: Visible,
    channel: str | None = None,
    decline_reason: str | None = None,
    note: str | None = None,
    author_role: str | None = None,
) -> tuple[Document, Referral]:
    """Apply a status action (or a progress note) to a referral the caller may see."""
    found = await visible_referral(runtime=runtime, referral_id=referral_id, visible=visible)
    case_id = found[0]["_id"]
    encrypted_note: Document | None = None
    if note is not None:
        key = await runtime.keys.create("victim", found[1]["victim_id"])
        note_id = str(uuid7())
        encrypted_note = {
            "note_id": note_id,
            "written_at": datetime.now(UTC),
            "author_id": actor.id,
            "author_role": author_role or actor.role,
            "text": key.encrypt(note_field(referral_id, note_id), note),
        }

    def apply(case: Document) -> Change[tuple[Document, Referral]]:
        referral = find_referral(case, referral_id)
        if referral is None or not visible(case, referral):
            raise problem(404, NOT_FOUND)
        # The If-Match is the referral's version, not the case document's event sequence.
        if expected_version is not None and referral["version"] != expected_version:
            raise version_conflict()
        change = apply_action(
            referral,
            action,
            now=datetime.now(UTC),
            deadlines=runtime.deadlines,
            case_id=case_id,
            office=case["office"],
            channel=channel,
            decline_reason=decline_reason,
        )
        updated = change.referral
        if encrypted_note is not None:
            updated["progress_notes"] = [*updated.get("progress_notes", []), encrypted_note]
        return Change(
            {"$set": {"referrals": replace_referral(case, updated)}},
            change.payloads,
            (case, updated),
        )

    changed = await runtime.cases.change(case_id, apply=apply, actor=actor)
    return changed.result


async def send_channel(
    *, runtime: Runtime, principal: Principal, referral_id: str, intake: IntakeLookup | None
) -> str | None:
    """The channel a referral is sent by, once its institution and the consent allow it."""
    found = await locate_referral(runtime=runtime, referral_id=referral_id)
    if found is None or not in_office_scope(principal, found[0]["office"]):
        return None  # the action itself answers 404
    referral = found[1]
    institution = await runtime.institutions.find_one({"_id": referral["institution_id"]})
    if institution is None or not institution.get("active", True):
        raise problem(409, "La institución ya no está activa.")
    victim = await known_victim(
        runtime=runtime,
        case_id=found[0]["_id"],
        victim_id=referral["victim_id"],
        consent_to=None if referral.get("consent_override") else referral["institution_kind"],
        intake=intake,
    )
    require_send_consent(referral, victim or {})
    channel: str = institution.get("integration", "manual")
    return channel


async def staff_act(
    *,
    runtime: Runtime,
    principal: Principal,
    referral_id: str,
    action: Action,
    version: int,
    intake: IntakeLookup | None = None,
    **options: Any,
) -> ReferralRead:
    """A staff member's action on a referral of their offices (answers of manual institutions)."""
    channel = None
    if action == "send":
        channel = await send_channel(
            runtime=runtime, principal=principal, referral_id=referral_id, intake=intake
        )
    case, referral = await act_on_referral(
        runtime=runtime,
        referral_id=referral_id,
        action=action,
        actor=principal.actor,
        expected_version=version,
        visible=staff_visible(principal),
        channel=channel,
        **options,
    )
    return to_staff_read(case, referral)


async def logged_details(
    *, runtime: Runtime, principal: Principal, case: Document, referral: Referral
) -> ReferralDetails:
    """A referral's decrypted free text, the read recorded in the access log first."""
    await runtime.access_log.record(
        principal=principal,
        subject_type="victim",
        subject_id=referral["victim_id"],
        purpose="referral",
        fields=["referral_reason", "shared_facts", "progress_notes"],
        case_id=case["_id"],
    )
    key = await runtime.keys.get("victim", referral["victim_id"])
    rid = referral["referral_id"]
    notes = [
        ProgressNoteRead(
            note_id=n["note_id"],
            written_at=n["written_at"],
            author_role=n["author_role"],
            text=key.decrypt(note_field(rid, n["note_id"]), n["text"]),
        )
        for n in referral.get("progress_notes") or []
    ]
    return ReferralDetails(
        referral_id=rid,
        reason=key.decrypt(reason_field(rid), referral["reason"]),
        shared_facts=key.decrypt_optional(facts_field(rid), referral.get("shared_facts")),
        progress_notes=notes,
    )


async def list_referrals(
    *, runtime: Runtime, query: Document, keep: Visible
) -> list[tuple[Document, Referral]]:
    """Referrals of the cases matching `query` that `keep` accepts, newest first."""
    found = [
        (case, dict(referral))
        async for case in runtime.cases.collection.find(query, {"_outbox": 0})
        for referral in case.get("referrals") or []
        if keep(case, referral)
    ]
    found.sort(key=lambda pair: pair[1]["referral_id"], reverse=True)  # UUIDv7: by time
    return found


async def office_referrals(
    *,
    runtime: Runtime,
    principal: Principal,
    status: str | None,
    institution_id: str | None,
    office: str | None = None,
) -> list[tuple[Document, Referral]]:
    """Referrals of the caller's offices (or one of them), optionally of a status or institution."""
    query = office_query(principal, office)
    if institution_id is not None:
        query["referrals.institution_id"] = institution_id

    def keep(_case: Document, referral: Referral) -> bool:
        return (status is None or referral["status"] == status) and (
            institution_id is None or referral["institution_id"] == institution_id
        )

    return await list_referrals(runtime=runtime, query=query, keep=keep)
