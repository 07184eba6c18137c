"""Every operation's OpenAPI document declares ErrorResponse, the body the handlers really send."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.api import ErrorResponse, FieldError, problem
from ruta_shared.health import health_router
from ruta_shared.openapi import DOCUMENTED_ERRORS, document_error_responses

ERROR_REF = "#/components/schemas/ErrorResponse"


class Thing(BaseModel):
    name: str


class Special(BaseModel):
    detail: str
    reason: str


def app_with_routes() -> FastAPI:
    router = APIRouter()

    @router.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @router.get("/things/{thing_id}", responses={409: {"model": Special}})
    async def read(thing_id: str) -> Thing:
        return Thing(name=thing_id)

    app = FastAPI()
    app.include_router(health_router("t", {}, 1.0))
    app.include_router(router)
    document_error_responses(app)
    return app


def schema_of(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    response = document["paths"][path][method]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


def test_every_operation_declares_the_error_body_for_each_4xx() -> None:
    document = app_with_routes().openapi()
    for path, method in (("/things", "post"), ("/things/{thing_id}", "get")):
        for status in DOCUMENTED_ERRORS:
            if (path, status) != ("/things/{thing_id}", 409):
                assert schema_of(document, path, method, status) == {"$ref": ERROR_REF}
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert schemas["ErrorResponse"]["required"] == ["detail"]
    assert schemas["ErrorResponse"]["additionalProperties"] is True


def test_a_routes_own_declaration_and_the_probes_are_kept() -> None:
    document = app_with_routes().openapi()
    special = schema_of(document, "/things/{thing_id}", "get", 409)
    assert special == {"$ref": "#/components/schemas/Special"}
    assert set(document["paths"]["/healthz"]["get"]["responses"]) == {"200"}


def test_the_bodies_the_handlers_send_are_error_responses() -> None:
    field = FieldError("name", "falta el nombre").detail
    rule = RuleViolationError(None, "La sesión está cancelada.", status_code=409, code="cancelled")
    field_rule = RuleViolationError("ends_on", "antes del inicio", kind="date_order")
    extra = problem(409, "Víctima ya registrada.", existing_victim_id="v-1").detail
    for body in (field, rule.body(), field_rule.body(), extra):
        parsed = ErrorResponse.model_validate(body)
        assert parsed.model_dump(exclude_none=True) == body
