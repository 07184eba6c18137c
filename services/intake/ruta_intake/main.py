"""Composition root of the intake service: builds the app from settings and runs it."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app

from ruta_intake.api import router
from ruta_intake.deps import OUTBOX_COLLECTIONS, Intake, prepare_database
from ruta_intake.rules import RuleError
from ruta_intake.settings import IntakeSettings

DESCRIPTION = (
    "Casos, víctimas, familiares, consentimiento y atención. Los datos personales se cifran "
    "campo por campo y toda lectura queda registrada. Cada POST acepta `Idempotency-Key`; "
    "los cambios de un caso piden `If-Match` con su ETag."
)


def create_app(
    settings: IntakeSettings | None = None, *, security: SecuritySettings | None = None
) -> FastAPI:
    """Build the intake app; nothing is wired at import time."""
    app = create_service_app(
        settings or IntakeSettings(),
        title="Ruta: intake",
        description=DESCRIPTION,
        routers=[router],
        outbox_collections=OUTBOX_COLLECTIONS,
        on_startup=[prepare_database],
        security=security,
        issue_tokens=True,  # Ruta's own token issuer (POST /auth/token) lives here
    )
    app.state.intake = Intake(app.state.context)
    app.add_exception_handler(RuleError, _rule_violation)
    return app


async def _rule_violation(_: Request, exc: Exception) -> JSONResponse:
    """A broken domain rule: 4xx naming the field, in the same shape as validation errors."""
    assert isinstance(exc, RuleError)
    return JSONResponse(
        {
            "detail": "Datos no válidos: revise los campos indicados."
            if exc.status_code == 422
            else "La operación no es posible en el estado actual: revise el campo indicado.",
            "errors": [{"field": exc.field, "type": "rule", "message": exc.message}],
        },
        status_code=exc.status_code,
    )


def run() -> None:
    """Serve the app on RUTA_HOST:RUTA_PORT."""
    settings = IntakeSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    run()
