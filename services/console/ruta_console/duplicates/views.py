"""The coordinators' page of possible duplicates across offices, and resolving one."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from ruta_shared.ids import ID_PATTERN

from ruta_console.calls import call, fetch
from ruta_console.deps import CheckedForm, Coordinator, RuntimeDep
from ruta_console.pages import redirect, refusal, render, write_headers
from ruta_console.upstream import Service

router = APIRouter(prefix="/duplicados")

DuplicateId = Annotated[str, Path(pattern=ID_PATTERN)]
Outcome = Annotated[str, Path(pattern=r"^(same_person|different_people)$")]
OUTCOME_DONE: Final = {
    "same_person": "Registrado: es la misma persona (se cuenta una vez).",
    "different_people": "Registrado: son personas distintas.",
}


@router.get("")
async def duplicates(*, request: Request, runtime: RuntimeDep, session: Coordinator) -> Response:
    """Pending possible duplicates with both records in my offices, oldest first."""
    body = await fetch(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        path="/possible-duplicates",
        params={"limit": 50},
    )
    return render(request, "duplicates/list.html", title="Posibles duplicados", found=body["items"])


@router.post("/{duplicate_id}/{outcome}")
async def resolve(
    *,
    runtime: RuntimeDep,
    session: Coordinator,
    duplicate_id: DuplicateId,
    outcome: Outcome,
    form: CheckedForm,
) -> Response:
    """One person in two records (the older one counts), or two different people."""
    answer = await call(
        runtime=runtime,
        session=session,
        service=Service.INTAKE,
        method="POST",
        path=f"/possible-duplicates/{duplicate_id}/resolution",
        json={"outcome": outcome},
        headers=write_headers(form),
    )
    session.flash(
        *(("ok", OUTCOME_DONE[outcome]) if answer.ok else ("error", refusal(answer)["_"]))
    )
    return redirect("/duplicados")
