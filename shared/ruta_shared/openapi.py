"""The error answers every operation of a service's OpenAPI document declares: `ErrorResponse`."""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from ruta_shared.api import ErrorResponse

# The statuses a route may answer with an error body of ours; each one's Spanish title.
ERROR_TITLES: Final = {
    400: "Solicitud mal formada.",
    401: "No autenticado.",
    403: "No autorizado.",
    404: "No encontrado.",
    405: "Método no permitido.",
    409: "Conflicto con el estado actual.",
    410: "Los datos fueron eliminados.",
    412: "La versión enviada ya no es la actual.",
    422: "Datos no válidos.",
    428: "Falta una condición previa (If-Match).",
    429: "Demasiados intentos: espere antes de reintentar.",
}
DOCUMENTED_ERRORS: Final = (400, 401, 403, 404, 409, 410, 412, 422, 428, 429)
# Liveness and readiness answer no 4xx: their documents stay as they are.
_PROBES: Final = frozenset({"/healthz", "/readyz"})
_REF_TEMPLATE: Final = "#/components/schemas/{model}"
# What FastAPI documents for a 422 by default (`detail` as a list), which no service sends.
_FASTAPI_DEFAULTS: Final = ("HTTPValidationError", "ValidationError")


def document_error_responses(app: FastAPI) -> None:
    """Make `app.openapi()` declare ErrorResponse for every 4xx that a route left undeclared.

    A route's own declaration of a status is kept; FastAPI's default 422 is replaced.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_responses(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def with_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """The document, every operation declaring ErrorResponse for each of DOCUMENTED_ERRORS."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema(
        [(ErrorResponse, "serialization")], ref_template=_REF_TEMPLATE
    )
    for name, definition in definitions["$defs"].items():
        # Already there when a route declared ErrorResponse itself (FastAPI wrote it then).
        schemas.setdefault(name, definition)
    reference = {"$ref": _REF_TEMPLATE.format(model=ErrorResponse.__name__)}
    for path, operations in document.get("paths", {}).items():
        if path in _PROBES:
            continue
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status in DOCUMENTED_ERRORS:
                declared = responses.get(str(status))
                if declared is None or _is_fastapi_default(declared):
                    responses[str(status)] = {
                        "description": ERROR_TITLES[status],
                        "content": {"application/json": {"schema": reference}},
                    }
    if not any(_mentions(document["paths"], name) for name in _FASTAPI_DEFAULTS):
        for name in _FASTAPI_DEFAULTS:
            schemas.pop(name, None)
    return document


def _mentions(value: Any, schema_name: str) -> bool:
    return f'"{_REF_TEMPLATE.format(model=schema_name)}"' in json.dumps(value)


def _is_fastapi_default(response: dict[str, Any]) -> bool:
    return _mentions(response, _FASTAPI_DEFAULTS[0])
