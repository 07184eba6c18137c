"""The partner pages: referrals received, acknowledge, accept, decline, notes, complete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ruta_console.calls import call, fetch
from ruta_console.deps import CheckedForm, Partner, ReferralId, RuntimeDep
from ruta_console.pages import redirect, refusal, render, write_headers
from ruta_console.referrals.rules import ACTION_DONE, DECLINABLE, NOTES_ALLOWED, PARTNER_ACTIONS
from ruta_console.rules import text
from ruta_console.upstream import Service

router = APIRouter(prefix="/socio")

PartnerAction = Annotated[str, Path(pattern=r"^(acknowledge|accept|decline|complete)$")]


@router.get("")
async def received(*, request: Request, runtime: RuntimeDep, session: Partner) -> Response:
    """The referrals addressed to this institution (and only those)."""
    body = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path="/partner/referrals",
        params={"limit": 100},
    )
    return render(request, "partner/referrals.html", title="Derivaciones recibidas", found=body)


@router.get("/derivaciones/{referral_id}")
async def referral_page(
    *, request: Request, runtime: RuntimeDep, session: Partner, referral_id: ReferralId
) -> Response:
    """One referral received: what is asked, the shared facts, notes, the next step."""
    base = f"/partner/referrals/{referral_id}"
    referral = await fetch(runtime=runtime, session=session, service=Service.REFERRALS, path=base)
    details = await fetch(
        runtime=runtime, session=session, service=Service.REFERRALS, path=f"{base}/details"
    )
    return render(
        request,
        "referrals/referral.html",
        title="Derivación",
        referral=referral,
        details=details,
        actions=PARTNER_ACTIONS.get(referral["status"], ()),
        decline=referral["status"] in DECLINABLE,
        notes=referral["status"] in NOTES_ALLOWED,
        base="/socio/derivaciones",
    )


async def _post(
    *,
    runtime: RuntimeDep,
    session: Partner,
    referral_id: str,
    path: str,
    body: dict[str, str | None] | None,
    form: CheckedForm,
    done: str,
) -> Response:
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        method="POST",
        path=f"/partner/referrals/{referral_id}/{path}",
        json=body,
        headers=write_headers(form),
    )
    session.flash(*(("ok", done) if answer.ok else ("error", refusal(answer)["_"])))
    if answer.ok and path == "decline":
        return redirect("/socio")  # a declined referral is no longer the institution's to see
    return redirect(f"/socio/derivaciones/{referral_id}")


@router.post("/derivaciones/{referral_id}/notas")
async def add_note(
    *, runtime: RuntimeDep, session: Partner, referral_id: ReferralId, form: CheckedForm
) -> Response:
    """Add a progress note."""
    return await _post(
        runtime=runtime,
        session=session,
        referral_id=referral_id,
        path="progress-notes",
        body={"text": text(form, "text") or ""},
        form=form,
        done="Nota añadida.",
    )


@router.post("/derivaciones/{referral_id}/{action}")
async def act(
    *,
    runtime: RuntimeDep,
    session: Partner,
    referral_id: ReferralId,
    action: PartnerAction,
    form: CheckedForm,
) -> Response:
    """Acknowledge, accept, decline (with a reason) or complete."""
    body = {"reason": text(form, "reason")} if action == "decline" else None
    return await _post(
        runtime=runtime,
        session=session,
        referral_id=referral_id,
        path=action,
        body=body,
        form=form,
        done=ACTION_DONE[action],
    )
