"""The admin pages: institutions (list, register, webhook secret) and webhook deliveries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from ruta_shared.ids import ID_PATTERN

from ruta_console.calls import call, fetch
from ruta_console.deps import Admin, CheckedForm, RuntimeDep
from ruta_console.errors import RefusedError
from ruta_console.pages import form_values, redirect, refusal, render, write_headers
from ruta_console.rules import compact, text
from ruta_console.upstream import Service

router = APIRouter(prefix="/admin")

InstitutionId = Annotated[str, Path(pattern=ID_PATTERN)]
DeliveryId = Annotated[str, Path(pattern=ID_PATTERN)]
DELIVERY_STATUSES = {
    "dead": "Fallidas (sin más reintentos)",
    "pending": "Pendientes",
    "delivered": "Entregadas",
}


def institution_body(form: Any) -> dict[str, Any]:
    """InstitutionCreate."""
    return compact(
        {
            name: text(form, name)
            for name in ("id", "kind", "name", "region", "contact", "integration", "webhook_url")
        }
    )


async def _institutions_page(
    request: Request, runtime: RuntimeDep, session: Admin, **extra: Any
) -> Response:
    body = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path="/institutions",
        params={"limit": 100},
    )
    status = int(extra.pop("status", 200))
    return render(
        request,
        "admin/institutions.html",
        title="Instituciones",
        status=status,
        institutions=body["items"],
        **extra,
    )


@router.get("/instituciones")
async def institutions(*, request: Request, runtime: RuntimeDep, session: Admin) -> Response:
    """The institutions Ruta refers victims to, and the form to register one."""
    return await _institutions_page(request, runtime, session)


@router.post("/instituciones")
async def register_institution(
    *, request: Request, runtime: RuntimeDep, session: Admin, form: CheckedForm
) -> Response:
    """Register an institution."""
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        method="POST",
        path="/institutions",
        json=institution_body(form),
        headers=write_headers(form),
    )
    if answer.ok:
        session.flash("ok", f"Institución «{answer.body['name']}» registrada.")
        return redirect("/admin/instituciones")
    return await _institutions_page(
        request,
        runtime,
        session,
        status=answer.status,
        errors=refusal(answer),
        values=form_values(form),
    )


@router.post("/instituciones/{institution_id}/secreto")
async def rotate_secret(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Admin,
    institution_id: InstitutionId,
    form: CheckedForm,
) -> Response:
    """A new webhook signing secret, shown once in this response (never stored here)."""
    del form  # checked for its CSRF token only
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        method="POST",
        path=f"/institutions/{institution_id}/webhook-secret",
    )
    if not answer.ok:
        raise RefusedError(answer)
    return await _institutions_page(
        request, runtime, session, secret=answer.body["secret"], secret_for=institution_id
    )


@router.get("/entregas")
async def deliveries(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: Admin,
    estado: Annotated[str, Query(pattern=r"^(dead|pending|delivered)$")] = "dead",
) -> Response:
    """Webhook deliveries, the failed ones first, with a replay button."""
    body = await fetch(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        path="/webhooks/deliveries",
        params={"status": estado, "limit": 100},
    )
    return render(
        request,
        "admin/deliveries.html",
        title="Entregas de webhooks",
        deliveries=body["items"],
        estado=estado,
        statuses=DELIVERY_STATUSES,
    )


@router.post("/entregas/{delivery_id}/reenvio")
async def replay(
    *, runtime: RuntimeDep, session: Admin, delivery_id: DeliveryId, form: CheckedForm
) -> Response:
    """Send a failed delivery again."""
    del form  # checked for its CSRF token only
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.REFERRALS,
        method="POST",
        path=f"/webhooks/deliveries/{delivery_id}/replay",
    )
    session.flash(*(("ok", "Entrega reprogramada.") if answer.ok else ("error", answer.detail)))
    return redirect("/admin/entregas")
