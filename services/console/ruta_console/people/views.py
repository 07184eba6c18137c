"""The victim pages: register victims and relatives, consents, care, personal data on purpose."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from ruta_shared.ids import ID_PATTERN

from ruta_console.auth.service import load_catalogue
from ruta_console.cases import service as cases
from ruta_console.cases.rules import (
    care_body,
    consent_body,
    duplicate_notices,
    is_duplicate,
    personal_data,
    victim_body,
)
from ruta_console.cases.views import DUPLICATE_WARNING
from ruta_console.deps import CaseId, CaseStaff, CheckedForm, ConsentId, RuntimeDep, VictimId
from ruta_console.pages import form_values, redirect, refusal, render, write_headers
from ruta_console.people.rendering import post_change, victim_page
from ruta_console.rules import text
from ruta_console.upstream import Service

router = APIRouter()


@router.get("/casos/{case_id}/victimas/nueva")
async def new_victim(
    *, request: Request, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId
) -> Response:
    """The form to register another victim in a case."""
    catalogue = await load_catalogue(runtime=runtime, session=session)
    return render(
        request, "people/new.html", title="Registrar víctima", cat=catalogue, case_id=case_id
    )


@router.post("/casos/{case_id}/victimas/nueva")
async def register_victim(
    *, request: Request, runtime: RuntimeDep, session: CaseStaff, case_id: CaseId, form: CheckedForm
) -> Response:
    """Register the victim; a possible duplicate is a warning, the form is kept."""
    answer = await cases.write(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        path=f"/cases/{case_id}/victims",
        body=victim_body(form),
        headers=write_headers(form),
    )
    if answer.ok:
        session.flash("ok", "Víctima registrada.")
        for notice in duplicate_notices(answer.body):
            session.flash("warning", notice)
        return redirect(f"/casos/{case_id}/victimas/{answer.body['victim_id']}")
    catalogue = await load_catalogue(runtime=runtime, session=session)
    errors = refusal(answer)
    duplicate = is_duplicate(answer.status, errors, answer.body)
    return render(
        request,
        "people/new.html",
        title="Registrar víctima",
        status=answer.status,
        cat=catalogue,
        case_id=case_id,
        errors={"_": DUPLICATE_WARNING} if duplicate else errors,
        values=form_values(form),
        duplicate=duplicate,
    )


@router.get("/casos/{case_id}/victimas/{victim_id}")
async def show_victim(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
) -> Response:
    """A victim: attributes, relatives, consents, care, referrals, return home, milestones."""
    return await victim_page(request, runtime, session, case_id, victim_id)


@router.post("/casos/{case_id}/victimas/{victim_id}/datos-personales")
async def read_personal_data(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
    form: CheckedForm,
) -> Response:
    """Show personal data after the user chose why (intake logs the access); never in a URL."""
    purpose = text(form, "purpose") or ""
    subject_id = text(form, "relative_id") or victim_id
    if subject_id != victim_id and not _is_id(subject_id):
        subject_id = victim_id
    answer = await cases.read_personal_data(
        runtime=runtime,
        session=session,
        case_id=case_id,
        subject="relatives" if subject_id != victim_id else "victims",
        subject_id=subject_id,
        purpose=purpose,
    )
    if not answer.ok:
        errors = refusal(answer, frozenset({"purpose"}))
        return await victim_page(
            request, runtime, session, case_id, victim_id, status=answer.status, pd_errors=errors
        )
    return await victim_page(request, runtime, session, case_id, victim_id, personal=answer.body)


def _is_id(value: str) -> bool:
    return re.fullmatch(ID_PATTERN, value) is not None


@router.post("/casos/{case_id}/victimas/{victim_id}/familiares")
async def register_relative(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
    form: CheckedForm,
) -> Response:
    """Register a relative of the victim."""
    body = {"relationship": text(form, "relationship"), "personal_data": personal_data(form, "")}
    return await post_change(
        request,
        runtime,
        session,
        form,
        case_id=case_id,
        victim_id=victim_id,
        path=f"/cases/{case_id}/victims/{victim_id}/relatives",
        body=body,
        done="Familiar registrado.",
        form_name="relative",
        fields=frozenset(
            {"relationship", "personal_data.given_names", "personal_data.family_names"}
        ),
    )


@router.post("/casos/{case_id}/victimas/{victim_id}/consentimientos")
async def record_consent(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
    form: CheckedForm,
) -> Response:
    """Record a consent (given or refused) for a purpose and kind of institution."""
    return await post_change(
        request,
        runtime,
        session,
        form,
        case_id=case_id,
        victim_id=victim_id,
        path=f"/cases/{case_id}/victims/{victim_id}/consents",
        body=consent_body(form),
        done="Consentimiento registrado.",
        form_name="consent",
        fields=frozenset(
            {"purpose", "institution_kind", "given_by", "granted", "guardian_relative_id"}
        ),
    )


@router.post("/casos/{case_id}/consentimientos/{consent_id}/retiro")
async def withdraw_consent(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    consent_id: ConsentId,
    form: CheckedForm,
) -> Response:
    """Withdraw a consent."""
    victim_id = text(form, "victim_id") or ""
    if not _is_id(victim_id):
        return redirect(f"/casos/{case_id}")
    return await post_change(
        request,
        runtime,
        session,
        form,
        case_id=case_id,
        victim_id=victim_id,
        path=f"/cases/{case_id}/consents/{consent_id}/withdrawal",
        body={},
        done="Consentimiento retirado.",
        form_name="withdraw",
        fields=frozenset(),
    )


@router.post("/casos/{case_id}/victimas/{victim_id}/atenciones")
async def provide_care(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: CaseStaff,
    case_id: CaseId,
    victim_id: VictimId,
    form: CheckedForm,
) -> Response:
    """Record care given to the victim."""
    return await post_change(
        request,
        runtime,
        session,
        form,
        case_id=case_id,
        victim_id=victim_id,
        path=f"/cases/{case_id}/victims/{victim_id}/care",
        body=care_body(form),
        done="Atención registrada.",
        form_name="care",
        fields=frozenset({"care_type", "provided_on", "duration_minutes", "amount_pen"}),
    )
