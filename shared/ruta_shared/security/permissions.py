"""THE permission table, the `require()` route dependency and office scoping.

The table below is the single place that says which role may do what; a permission
that is not in it, or a role not listed for it, is denied. Routes declare their
permission with `require()`, which leaves a marker on the route that
`route_permission()` reads, so tests can enumerate every route and its permission.

Resources outside the caller's office scope answer 404, the same as resources that do
not exist, so a case worker cannot learn that a case exists in another office. 403 is
kept for "your role may never do this", which reveals nothing about any resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, HTTPException
from fastapi.dependencies.models import Dependant

from ruta_shared.security.authentication import current_principal
from ruta_shared.security.principal import Principal, Role

_R = Role

PERMISSIONS: Final[Mapping[str, frozenset[Role]]] = MappingProxyType(
    {
        # any signed-in caller: who am I
        "self:read": frozenset(Role),
        # cases and their victims (intake)
        "case:read": frozenset({_R.CASE_WORKER, _R.COORDINATOR}),
        "case:write": frozenset({_R.CASE_WORKER, _R.COORDINATOR}),
        "case:approve": frozenset({_R.COORDINATOR}),  # closures and consent overrides
        "case:break_glass": frozenset({_R.CASE_WORKER}),
        "victim_pii:read": frozenset({_R.CASE_WORKER, _R.COORDINATOR}),
        "victim_pii:write": frozenset({_R.CASE_WORKER, _R.COORDINATOR}),
        "victim:erase": frozenset({_R.COORDINATOR}),
        # data subjects' rights and duplicates across offices (coordinators see every office)
        "victim:export": frozenset({_R.COORDINATOR}),
        "victim:merge": frozenset({_R.COORDINATOR}),
        # de-identified exports of every case (HTCDS CSV): no personal data, all offices
        "case:export_deidentified": frozenset({_R.COORDINATOR, _R.AUDITOR}),
        # referrals, institutions and partner access
        "referral:read": frozenset({_R.CASE_WORKER, _R.COORDINATOR}),
        "referral:write": frozenset({_R.CASE_WORKER, _R.COORDINATOR}),
        "referral:partner_read": frozenset({_R.PARTNER}),
        "referral:partner_act": frozenset({_R.PARTNER}),
        "institution:read": frozenset({_R.CASE_WORKER, _R.COORDINATOR, _R.ADMIN}),
        "institution:write": frozenset({_R.COORDINATOR, _R.ADMIN}),
        # projects and their funders (one registry, read by every staff role)
        "project:read": frozenset(
            {_R.CASE_WORKER, _R.COORDINATOR, _R.TRAINER, _R.AUDITOR, _R.ADMIN}
        ),
        "project:write": frozenset({_R.COORDINATOR, _R.ADMIN}),
        # training
        "training:read": frozenset({_R.TRAINER, _R.COORDINATOR}),
        "training:write": frozenset({_R.TRAINER}),
        "participant_pii:read": frozenset({_R.TRAINER}),
        "participant_pii:write": frozenset({_R.TRAINER}),
        # data subjects' rights and duplicates across offices: coordinators see every office
        "participant:erase": frozenset({_R.COORDINATOR}),
        "participant:export": frozenset({_R.COORDINATOR}),
        "participant:merge": frozenset({_R.COORDINATOR}),
        # analytics, audit and reports
        "audit:read": frozenset({_R.AUDITOR, _R.COORDINATOR}),
        "access_log:read": frozenset({_R.AUDITOR, _R.COORDINATOR}),
        "audit:verify_ledger": frozenset({_R.AUDITOR, _R.ADMIN}),
        "audit:seal": frozenset({_R.ADMIN}),
        "report:read_exact": frozenset({_R.COORDINATOR}),
        "report:read_suppressed": frozenset({_R.COORDINATOR, _R.AUDITOR, _R.TRAINER}),
        # a project's donor report (suppressed); funders read it through an auditor account
        "report:read_donor": frozenset({_R.COORDINATOR, _R.AUDITOR}),
        "dashboard:read": frozenset({_R.COORDINATOR}),
        # administration and operations
        "admin:users": frozenset({_R.ADMIN}),
        "admin:partners": frozenset({_R.ADMIN}),
        "metrics:read": frozenset({_R.ADMIN}),
    }
)

OfficeScope = Literal["own", "all", "none"]

# Which offices' resources a role sees, once the table allowed the action at all.
OFFICE_SCOPE: Final[Mapping[Role, OfficeScope]] = MappingProxyType(
    {
        _R.CASE_WORKER: "own",
        _R.TRAINER: "own",
        _R.COORDINATOR: "all",
        _R.AUDITOR: "all",
        _R.ADMIN: "all",
        _R.PARTNER: "none",  # partners are limited by institution, never by office
    }
)

FORBIDDEN_DETAIL = "No tiene permiso para realizar esta acción."
NOT_FOUND_DETAIL = "No encontrado."


def allowed(role: Role, permission: str) -> bool:
    """Whether the table lets `role` use `permission` (unknown permissions: never)."""
    return role in PERMISSIONS.get(permission, frozenset())


def roles_for(permission: str) -> frozenset[Role]:
    """The roles allowed `permission` (empty when it is not in the table)."""
    return PERMISSIONS.get(permission, frozenset())


def in_office_scope(principal: Principal, office: str) -> bool:
    """Whether `principal` may see resources of `office`."""
    scope = OFFICE_SCOPE.get(principal.role, "none")
    if scope == "all":
        return True
    if scope == "own":
        return office in principal.offices
    return False


def ensure_office_scope(principal: Principal, office: str) -> None:
    """Raise 404 (never 403) when the resource's office is outside the caller's scope."""
    if not in_office_scope(principal, office):
        raise HTTPException(status_code=404, detail=NOT_FOUND_DETAIL)


class PermissionCheck:
    """A route dependency that authenticates the caller and checks one permission."""

    def __init__(self, permission: str) -> None:
        if permission not in PERMISSIONS:
            msg = f"permission {permission!r} is not in the permission table"
            raise ValueError(msg)
        self.permission = permission

    async def __call__(
        self, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Principal:
        """Return the caller when their role holds the permission; 403 otherwise."""
        if not allowed(principal.role, self.permission):
            raise HTTPException(status_code=403, detail=FORBIDDEN_DETAIL)
        return principal


def require(permission: str) -> Any:
    """`Annotated[Principal, require("case:read")]`: authenticate, then check the table."""
    return Depends(PermissionCheck(permission))


class PublicAccess:
    """Marks a route anyone may call without credentials; `reason` says why, for reviewers.

    The only way to serve a route outside PUBLIC_PATHS without `require()`: the route
    guard lets it through, and `public_routes()` lists it so tests can pin the set.
    """

    def __init__(self, reason: str) -> None:
        if not reason.strip():
            msg = "a public route must say why it is public"
            raise ValueError(msg)
        self.reason = reason

    async def __call__(self) -> None:
        """Nothing to check: the route is public by declaration."""


def public(reason: str) -> Any:
    """`dependencies=[public("why")]`: a route deliberately reachable without credentials."""
    return Depends(PublicAccess(reason))


def dependant_is_public(dependant: Dependant) -> bool:
    """Whether a route's dependency tree declares it public with `public()`."""
    if isinstance(dependant.call, PublicAccess):
        return True
    return any(dependant_is_public(sub) for sub in dependant.dependencies)


def dependant_permissions(dependant: Dependant) -> list[str]:
    """Every permission a route's dependency tree checks (normally exactly one)."""
    found: list[str] = []
    _collect(dependant, found)
    return found


def _collect(dependant: Dependant, found: list[str]) -> None:
    if isinstance(dependant.call, PermissionCheck):
        found.append(dependant.call.permission)
    for sub in dependant.dependencies:
        _collect(sub, found)
