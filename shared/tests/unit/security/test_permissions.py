"""The permission table's semantics, office scoping and the route-permission guard."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, HTTPException
from ruta_shared.security.install import PUBLIC_PATHS, protected_routes
from ruta_shared.security.permissions import (
    OFFICE_SCOPE,
    PERMISSIONS,
    PermissionCheck,
    allowed,
    ensure_office_scope,
    in_office_scope,
    require,
    roles_for,
)
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_shared.testing.tokens import principal


def test_anything_not_in_the_table_is_denied() -> None:
    for role in Role:
        assert not allowed(role, "case:delete_everything")
    assert roles_for("nope") == frozenset()


def test_every_role_has_a_scope_and_every_permission_names_known_roles() -> None:
    assert set(OFFICE_SCOPE) == set(Role)
    for permission, roles in PERMISSIONS.items():
        assert roles, f"{permission} allows nobody: remove it"
        assert roles <= set(Role)


def test_the_table_says_who_does_what() -> None:
    assert allowed(Role.CASE_WORKER, "case:read")
    assert allowed(Role.COORDINATOR, "report:read_exact")
    assert not allowed(Role.AUDITOR, "report:read_exact")
    assert allowed(Role.AUDITOR, "report:read_suppressed")
    assert allowed(Role.AUDITOR, "audit:read")
    assert not allowed(Role.ADMIN, "victim_pii:read")
    assert allowed(Role.ADMIN, "admin:users")
    assert not allowed(Role.TRAINER, "case:read")
    assert allowed(Role.TRAINER, "training:write")


def test_partners_get_partner_permissions_and_nothing_else() -> None:
    partner_permissions = {p for p, roles in PERMISSIONS.items() if Role.PARTNER in roles}
    assert partner_permissions == {"self:read", "referral:partner_read", "referral:partner_act"}


def test_the_table_cannot_be_edited_at_run_time() -> None:
    with pytest.raises(TypeError):
        PERMISSIONS["case:read"] = frozenset(Role)  # type: ignore[index]


def test_case_workers_see_their_own_offices_only() -> None:
    worker = principal(Role.CASE_WORKER, offices=frozenset({"lima", "cusco"}))
    assert in_office_scope(worker, "lima")
    assert in_office_scope(worker, "cusco")
    assert not in_office_scope(worker, "iquitos")


def test_coordinators_see_all_offices_and_partners_none() -> None:
    coordinator = principal(Role.COORDINATOR, offices=frozenset())
    assert all(in_office_scope(coordinator, o) for o in ("lima", "iquitos", "madre_de_dios"))
    assert not in_office_scope(principal(Role.PARTNER), "lima")


def test_out_of_scope_is_404_not_403() -> None:
    worker = principal(Role.CASE_WORKER, offices=frozenset({"lima"}))
    ensure_office_scope(worker, "lima")  # in scope: no exception
    with pytest.raises(HTTPException) as caught:
        ensure_office_scope(worker, "iquitos")
    assert caught.value.status_code == 404
    assert caught.value.detail == "No encontrado."


def test_require_refuses_a_permission_missing_from_the_table() -> None:
    with pytest.raises(ValueError, match="not in the permission table"):
        require("case:reed")


async def test_permission_check_denies_with_403() -> None:
    check = PermissionCheck("admin:users")
    admin = principal(Role.ADMIN, offices=frozenset())
    assert await check(admin) is admin
    with pytest.raises(HTTPException) as caught:
        await check(principal(Role.COORDINATOR))
    assert caught.value.status_code == 403


def test_principal_never_holds_a_name_and_partners_need_an_institution() -> None:
    assert set(Principal.model_fields) == {
        "id",
        "role",
        "offices",
        "institution_id",
        "auth",
        "expires_at",
    }
    with pytest.raises(ValueError, match="institution_id"):
        Principal(id="p", role=Role.PARTNER, auth="api_key")
    with pytest.raises(ValueError, match="institution_id"):
        Principal(id="u", role=Role.ADMIN, institution_id="x", auth="password")


def app_with(router: APIRouter, tmp_path: object) -> object:
    return create_service_app(
        ServiceSettings(environment="test"),
        title="t",
        description="d",
        routers=[router],
        security=SecuritySettings(environment="test", key_dir=tmp_path),  # type: ignore[arg-type]
        encrypts_fields=False,
    )


def test_an_app_with_an_unprotected_route_refuses_to_build(tmp_path: object) -> None:
    router = APIRouter(prefix="/cases")

    @router.get("/{case_id}")
    async def read_case(case_id: str) -> dict[str, str]:
        return {"id": case_id}

    with pytest.raises(RuntimeError, match=r"GET /cases/\{case_id\}: none"):
        app_with(router, tmp_path)


def test_routes_of_included_routers_are_enumerated_with_their_permission(tmp_path: object) -> None:
    router = APIRouter(prefix="/cases")

    @router.get("/{case_id}")
    async def read_case(
        case_id: str, who: Annotated[Principal, require("case:read")]
    ) -> dict[str, str]:
        return {"id": case_id}

    app = app_with(router, tmp_path)
    routes = {r.path: r.permissions for r in protected_routes(app)}  # type: ignore[arg-type]
    assert routes == {"/cases/{case_id}": ("case:read",), "/me": ("self:read",)}
    assert "/auth/token" in PUBLIC_PATHS
