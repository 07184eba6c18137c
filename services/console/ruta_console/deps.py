"""FastAPI dependency aliases of the console: runtime, session, checked forms, path ids."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.principal import Role
from starlette.datastructures import FormData

from ruta_console.auth.models import Session
from ruta_console.errors import CsrfRejectedError, ForbiddenError, LoginRequiredError
from ruta_console.runtime import Runtime

MAX_FORM_FIELDS = 500


def get_runtime(request: Request) -> Runtime:
    """The running app's Runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def browser_session(request: Request) -> Session | None:
    """The session the middleware found for this browser (None when it has none)."""
    session: Session | None = request.state.session
    return session


def logged_in(request: Request) -> Session:
    """The session of a logged-in user; otherwise the browser goes to the login page."""
    session = browser_session(request)
    if session is None or session.token is None or session.account is None:
        raise LoginRequiredError
    return session


def role_in(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Session]]:
    """A dependency: the logged-in session, when its role is one of `roles`."""

    async def check(request: Request) -> Session:
        session = logged_in(request)
        assert session.account is not None  # logged_in checked it
        if session.account.role not in roles:
            raise ForbiddenError
        return session

    return check


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches this browser's session."""
    session = browser_session(request)
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    sent = form.get("csrf")
    if session is None or not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise CsrfRejectedError
    return form


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MaybeSession = Annotated[Session | None, Depends(browser_session)]
UserSession = Annotated[Session, Depends(logged_in)]
CaseStaff = Annotated[Session, Depends(role_in(Role.CASE_WORKER, Role.COORDINATOR))]
Coordinator = Annotated[Session, Depends(role_in(Role.COORDINATOR))]
Trainer = Annotated[Session, Depends(role_in(Role.TRAINER, Role.COORDINATOR))]
FiguresReader = Annotated[Session, Depends(role_in(Role.COORDINATOR, Role.AUDITOR, Role.TRAINER))]
AuditReader = Annotated[Session, Depends(role_in(Role.AUDITOR, Role.COORDINATOR))]
Admin = Annotated[Session, Depends(role_in(Role.ADMIN))]
Partner = Annotated[Session, Depends(role_in(Role.PARTNER))]
CheckedForm = Annotated[FormData, Depends(checked_form)]

CaseId = Annotated[str, Path(pattern=ID_PATTERN, description="Id del caso")]
VictimId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la víctima")]
ReferralId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la derivación")]
ConsentId = Annotated[str, Path(pattern=ID_PATTERN, description="Id del consentimiento")]
SessionId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la sesión")]
ParticipantId = Annotated[str, Path(pattern=ID_PATTERN, description="Id del participante")]
