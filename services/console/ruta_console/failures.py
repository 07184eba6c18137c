"""Error pages in Spanish: login needed, session ended, forbidden, not found, service down."""

from __future__ import annotations

import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ruta_console.errors import (
    CsrfRejectedError,
    ForbiddenError,
    LoginRequiredError,
    RefusedError,
    SessionEndedError,
    UnavailableError,
)
from ruta_console.pages import redirect, render

log = logging.getLogger(__name__)

NOT_FOUND = "No encontramos esa página o no tiene acceso a ella."


def _page(request: Request, status: int, heading: str, message: str) -> Response:
    return render(
        request, "error.html", title=heading, status=status, heading=heading, message=message
    )


async def _login_required(request: Request, _: Exception) -> Response:
    return redirect("/entrar")


async def _session_ended(request: Request, _: Exception) -> Response:
    runtime = request.app.state.runtime
    if request.state.session is not None:
        await runtime.sessions.drop(request.state.session.id)
    fresh = await runtime.sessions.new()
    fresh.flash("warning", "Su sesión terminó. Vuelva a entrar para continuar.")
    request.state.session = fresh
    return redirect("/entrar")


async def _unavailable(request: Request, exc: Exception) -> Response:
    return unavailable_page(request, exc.part if isinstance(exc, UnavailableError) else "Ruta")


def unavailable_page(request: Request, part: str) -> Response:
    """The 503 page: which part of Ruta does not answer now."""
    return _page(
        request,
        503,
        "Servicio no disponible",
        f"El servicio de {part} no responde en este momento. Inténtelo de nuevo en unos minutos.",
    )


async def _database(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    return unavailable_page(request, "Ruta")


async def _forbidden(request: Request, _: Exception) -> Response:
    return _page(request, 403, "Sin permiso", "Su rol no permite usar esta página.")


async def _csrf(request: Request, _: Exception) -> Response:
    return _page(
        request,
        403,
        "Formulario caducado",
        "El formulario caducó o no vino de esta consola. Vuelva a la página y repita la acción.",
    )


async def _refused(request: Request, exc: Exception) -> Response:
    answer = exc.answer if isinstance(exc, RefusedError) else None
    if answer is None or answer.status in {404, 422}:
        return _page(request, 404, "No encontrado", NOT_FOUND)
    if answer.status == 403:
        return _page(request, 403, "Sin permiso", answer.detail)
    return _page(request, answer.status, "No se pudo mostrar", answer.detail)


async def _http(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    if status == 405:
        return _page(request, 405, "Acción no válida", "Esa acción no existe en esta página.")
    return _page(request, 404, "No encontrado", NOT_FOUND)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled error",
        extra={"error": type(exc).__name__, "frames": traceback.format_tb(exc.__traceback__)},
    )
    return _page(
        request, 500, "Error interno", "Algo falló en la consola. El error quedó registrado."
    )


def install_error_pages(app: FastAPI) -> None:
    """Every refusal becomes a Spanish page (a path id that is not an id is a 404)."""
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(SessionEndedError, _session_ended)
    app.add_exception_handler(UnavailableError, _unavailable)
    app.add_exception_handler(PyMongoError, _database)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(CsrfRejectedError, _csrf)
    app.add_exception_handler(RefusedError, _refused)
    app.add_exception_handler(RequestValidationError, _http)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
