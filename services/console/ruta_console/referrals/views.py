"""Staff referral pages: refer a victim, follow a referral, notes, return home, milestones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ruta_console.calls import call, fetch
from ruta_console.cases import service as cases
from ruta_console.deps import CaseId, CaseStaff, CheckedForm, ReferralId, RuntimeDep, VictimId
from ruta_console.pages import redirect, refusal, render, write_headers
from ruta_console.people.rendering import failed, post_change
from ruta_console.referrals.rules import (
    ACTION_DONE,
    DECLINABLE,
    NOTES_ALLOWED,
    STAFF_ACTIONS,
    milestone_body,
    referral_body,
    return_body,
)
from ruta_console.rules import text
from ruta_console.upstream import Service

router = APIRouter()

StaffAction = Annotated[str, Path(pattern=r"^(send|acknowledge|accept|decline|complete|revoke)$")]
REFERRAL_FIELDS = frozenset(
    {
        "institution_id",
        "reason",
        "services_requested",
        "urgency",
        "due_on",
        "shared_facts",
        "consent_override_justification",
    }
)


@router.post("/casos/{case_id}/victimas/{victim_id}/derivaciones")
async def refer(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
    form: CheckedForm,
) -> Response:
    """Refer the victim to an institution and send it there at once."""
    body = referral_body(form) | {"victim_id": victim_id}
    answer = await cases.write(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path=f"/cases/{case_id}/referrals",
        body=body,
        headers=write_headers(form),
    )
    if not answer.ok:
        return await failed(
            request,
            runtime,
            session,
            form,
            case_id=case_id,
            victim_id=victim_id,
            answer=answer,
            form_name="referral",
            fields=REFERRAL_FIELDS,
        )
    referral_id = answer.body["referral_id"]
    sent = await call(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        method="POST",
        path=f"/referrals/{referral_id}/send",
        headers={"If-Match": f'"{answer.body["version"]}"'},
    )
    if sent.ok:
        session.flash("ok", "Derivación creada y enviada a la institución.")
    else:
        session.flash("warning", f"Derivación creada, pero no se pudo enviar: {sent.detail}")
    return redirect(f"/derivaciones/{referral_id}")


@router.get("/derivaciones/{referral_id}")
async def referral_page(
    *, request: Request, runtime: RuntimeDep, session: CaseStaff, referral_id: ReferralId
) -> Response:
    """A referral: status, deadline, overdue state, notes, and what can be done next."""
    referral = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path=f"/referrals/{referral_id}",
    )
    details = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path=f"/referrals/{referral_id}/details",
    )
    return render(
        request,
        "referrals/referral.html",
        title="Derivación",
        referral=referral,
        details=details,
        actions=STAFF_ACTIONS.get(referral["status"], ()),
        decline=referral["status"] in DECLINABLE,
        notes=referral["status"] in NOTES_ALLOWED,
        base="/derivaciones",
    )


@router.post("/derivaciones/{referral_id}/notas")
async def add_note(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    referral_id: ReferralId,
    form: CheckedForm,
) -> Response:
    """Add a progress note."""
    answer = await cases.write(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path=f"/referrals/{referral_id}/progress-notes",
        body={"text": text(form, "text") or ""},
        headers=write_headers(form),
    )
    session.flash(*(("ok", "Nota añadida.") if answer.ok else ("error", refusal(answer)["_"])))
    return redirect(f"/derivaciones/{referral_id}")


@router.post("/derivaciones/{referral_id}/{action}")
async def act(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    referral_id: ReferralId,
    action: StaffAction,
    form: CheckedForm,
) -> Response:
    """Send, record an answer (acknowledged, accepted, declined), complete or revoke."""
    body = {"reason": text(form, "reason")} if action == "decline" else None
    answer = await cases.write(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path=f"/referrals/{referral_id}/{action}",
        body=body,
        headers=write_headers(form),
    )
    session.flash(*(("ok", ACTION_DONE[action]) if answer.ok else ("error", refusal(answer)["_"])))
    return redirect(f"/derivaciones/{referral_id}")


@router.post("/casos/{case_id}/victimas/{victim_id}/retorno")
async def record_return(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
    form: CheckedForm,
) -> Response:
    """Record the victim's return home."""
    return await post_change(
        request,
        runtime,
        session,
        form,
        case_id=case_id,
        victim_id=victim_id,
        path=f"/cases/{case_id}/victims/{victim_id}/return-home",
        body=return_body(form),
        done="Retorno registrado.",
        form_name="return",
        fields=frozenset({"region_of_origin", "returned_on", "funded"}),
        service=Service.REFERRALS,
    )


@router.post("/casos/{case_id}/victimas/{victim_id}/hitos")
async def record_milestone(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
    form: CheckedForm,
) -> Response:
    """Record a reintegration milestone."""
    return await post_change(
        request,
        runtime,
        session,
        form,
        case_id=case_id,
        victim_id=victim_id,
        path=f"/cases/{case_id}/victims/{victim_id}/reintegration-milestones",
        body=milestone_body(form),
        done="Hito registrado.",
        form_name="milestone",
        fields=frozenset({"milestone", "reached_on", "region"}),
        service=Service.REFERRALS,
    )
