"""Account administration over HTTP (admin role), and setting a password with a one-time code.

Mounted where the token issuer is (`issue_tokens=True`, on intake). No password ever
appears in a response or a log: an administrator gets a one-time code, shown once, and
hands it to the account's owner, who sets their own password with `POST /auth/password`.
Every change is an `account.*` event written with the account through the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ruta_shared.aggregate import Aggregates, Change, RuleViolationError
from ruta_shared.api import problem
from ruta_shared.events import Actor
from ruta_shared.events.catalog.security import (
    AccountAccessChanged,
    AccountDisabled,
    AccountEnabled,
    AccountPasswordCodeIssued,
    AccountPasswordSet,
)
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.account_models import (
    PROBLEMS,
    AccountCreate,
    AccountCreatedRead,
    AccountPage,
    AccountRead,
    AccountUpdate,
    PasswordCode,
    PasswordSetRequest,
)
from ruta_shared.security.passwords import WeakPasswordError, hash_password
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import (
    AccessRuleError,
    UserExistsError,
    UserStore,
    check_access,
    new_account,
    user_from,
)

log = logging.getLogger(__name__)

ADMIN_USERS_PATH: Final = "/admin/users"
PASSWORD_PATH: Final = "/auth/password"  # noqa: S105 (a path, not a secret)
BAD_CODE: Final = "El código no es válido, ya se usó o venció: pida otro al administrador."

Document = dict[str, Any]
AdminDep = Annotated[Principal, require("admin:users")]


NO_ACCOUNT: Final = "No existe esa cuenta."


def _store(request: Request) -> UserStore:
    context = request.app.state.context  # the ServiceContext (not imported: no import cycle)
    return UserStore(context.auth_db, context.outbox)


StoreDep = Annotated[UserStore, Depends(_store)]


def _user_id(user_id: str) -> str:
    if not re.fullmatch(ID_PATTERN, user_id):
        raise problem(404, NO_ACCOUNT)
    return user_id


UserIdDep = Annotated[str, Depends(_user_id)]


def _settings(request: Request) -> SecuritySettings:
    settings: SecuritySettings = request.app.state.context.security.settings
    return settings


SettingsDep = Annotated[SecuritySettings, Depends(_settings)]


def _accounts(store: UserStore, not_found: Callable[[], Exception] | None = None) -> Aggregates:
    return Aggregates(
        collection=store.collection,
        outbox=store.outbox,
        name="account",
        not_found=not_found or (lambda: problem(404, NO_ACCOUNT)),
    )


async def _change(
    store: UserStore,
    user_id: str,
    apply: Callable[[Document], Change[None]],
    actor: Actor,
    accounts: Aggregates | None = None,
) -> None:
    """One change of an account through the change loop, with its events."""
    await store.adopt(user_id)
    await (accounts or _accounts(store)).change(user_id, apply=apply, actor=actor)


async def _changed(
    store: UserStore, user_id: str, apply: Callable[[Document], Change[None]], admin: Principal
) -> AccountRead:
    """An administrator's change of an account, logged; the account after it."""
    await _change(store, user_id, apply, admin.actor)
    log.info("account changed", extra={"user_id": user_id, "change": apply.__name__})
    return await _read(store, user_id)


async def _read(store: UserStore, user_id: str) -> AccountRead:
    return AccountRead.of(user_from(await _accounts(store).load(user_id)))


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_password_code(user_id: str, now: datetime, minutes: int) -> tuple[PasswordCode, Document]:
    """A code naming the account (so it is found by `_id`) and what is stored of it."""
    code = f"{user_id}.{secrets.token_urlsafe(32)}"
    expires_at = now + timedelta(minutes=minutes)
    return PasswordCode(code=code, expires_at=expires_at), {
        "hash": _code_hash(code),
        "expires_at": expires_at,
    }


def code_matches(stored: Document | None, code: str, now: datetime) -> bool:
    """Whether `code` is the account's current, unexpired code (constant-time comparison)."""
    if not stored:
        return False
    expires_at: datetime = stored["expires_at"]
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at > now and hmac.compare_digest(str(stored["hash"]), _code_hash(code))


def _rule(error: AccessRuleError) -> RuleViolationError:
    return RuleViolationError(f"body.{error.field}", error.message)


def _refuse_self(admin: Principal, doc: Document, message: str) -> None:
    if str(doc["_id"]) == admin.id:
        raise RuleViolationError(None, message, status_code=409)


accounts_router = APIRouter(prefix=ADMIN_USERS_PATH, tags=["cuentas"], responses=PROBLEMS)
password_router = APIRouter(tags=["autenticación"], responses=PROBLEMS)


@accounts_router.get("", response_model=AccountPage)
async def list_accounts(
    admin: AdminDep,
    store: StoreDep,
    after: Annotated[str | None, Query(pattern=ID_PATTERN, description="Id de la última")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AccountPage:
    """Accounts in creation order, `limit` at a time."""
    users = await store.page(after=after, limit=limit)
    last = users[-1].id if len(users) == limit else None
    return AccountPage(items=[AccountRead.of(u) for u in users], next_after=last)


@accounts_router.post("", response_model=AccountCreatedRead, status_code=201)
async def create_account(
    body: AccountCreate, admin: AdminDep, store: StoreDep, settings: SettingsDep, request: Request
) -> AccountCreatedRead:
    """Create an account and get the one-time code its owner sets a password with."""
    now = datetime.now(UTC)
    try:
        document, event = new_account(
            username=body.username,
            role=body.role,
            offices=body.offices,
            institution_id=body.institution_id,
            password_hash=None,
            now=now,
        )
    except AccessRuleError as exc:
        raise _rule(exc) from None
    code, stored = new_password_code(document["_id"], now, settings.password_code_minutes)
    document["password_code"] = stored
    if not getattr(request.app.state, "accounts_indexed", False):
        await store.ensure_indexes()  # uniqueness of usernames rests on this index
        request.app.state.accounts_indexed = True
    try:
        user = await store.insert(document, event, actor=admin.actor)
    except UserExistsError:
        raise RuleViolationError(
            "body.username", "Ya existe una cuenta con ese nombre.", status_code=409
        ) from None
    log.info("account created", extra={"user_id": user.id, "role": user.role.value})
    return AccountCreatedRead(**AccountRead.of(user).model_dump(), password_code=code)


@accounts_router.get("/{user_id}", response_model=AccountRead)
async def read_account(user_id: UserIdDep, admin: AdminDep, store: StoreDep) -> AccountRead:
    """One account."""
    return await _read(store, user_id)


@accounts_router.patch("/{user_id}", response_model=AccountRead)
async def change_access(
    user_id: UserIdDep,
    body: AccountUpdate,
    admin: AdminDep,
    store: StoreDep,
) -> AccountRead:
    """Change an account's role, offices or institution; its tokens stop working."""
    sent = body.model_fields_set

    def access(doc: Document) -> Change[None]:
        before = user_from(doc)
        role = body.role if body.role is not None else before.role
        if body.offices is not None:
            offices = sorted(body.offices)
        else:
            offices = [] if role is Role.PARTNER else sorted(before.offices)
        if "institution_id" in sent:
            institution = body.institution_id
        else:
            institution = before.institution_id if role is Role.PARTNER else None
        try:
            check_access(role, offices, institution)
        except AccessRuleError as exc:
            raise _rule(exc) from None
        if (role, offices, institution) == (
            before.role,
            sorted(before.offices),
            before.institution_id,
        ):
            return Change()
        if role is not Role.ADMIN:
            _refuse_self(admin, doc, "No puede quitarse a sí mismo el rol de administrador.")
        event = AccountAccessChanged(
            user_id=before.id,
            role=role.value,
            offices=offices,
            institution_id=institution,
            previous_role=before.role.value,
            previous_offices=sorted(before.offices),
            previous_institution_id=before.institution_id,
            changed_at=datetime.now(UTC),
        )
        update: Document = {
            "$set": {"role": role.value, "offices": offices, "institution_id": institution},
            "$inc": {"token_version": 1},
        }
        return Change(update, [event])

    return await _changed(store, user_id, access, admin)


@accounts_router.post("/{user_id}/disable", response_model=AccountRead)
async def disable_account(user_id: UserIdDep, admin: AdminDep, store: StoreDep) -> AccountRead:
    """Disable an account: no more logins, and its tokens stop working within seconds."""

    def disable(doc: Document) -> Change[None]:
        if doc.get("disabled"):
            return Change()
        _refuse_self(admin, doc, "No puede deshabilitar su propia cuenta.")
        event = AccountDisabled(user_id=str(doc["_id"]), disabled_at=datetime.now(UTC))
        update: Document = {"$set": {"disabled": True}, "$inc": {"token_version": 1}}
        return Change(update, [event])

    return await _changed(store, user_id, disable, admin)


@accounts_router.post("/{user_id}/enable", response_model=AccountRead)
async def enable_account(user_id: UserIdDep, admin: AdminDep, store: StoreDep) -> AccountRead:
    """Enable a disabled account (tokens from before it was disabled stay invalid)."""

    def enable(doc: Document) -> Change[None]:
        if not doc.get("disabled"):
            return Change()
        event = AccountEnabled(user_id=str(doc["_id"]), enabled_at=datetime.now(UTC))
        return Change({"$set": {"disabled": False}}, [event])

    return await _changed(store, user_id, enable, admin)


@accounts_router.post("/{user_id}/password-code", response_model=PasswordCode, status_code=201)
async def issue_password_code(
    user_id: UserIdDep, admin: AdminDep, store: StoreDep, settings: SettingsDep
) -> PasswordCode:
    """A one-time code (shown once) to set a new password; ends the old one and the tokens."""
    now = datetime.now(UTC)
    code, stored = new_password_code(user_id, now, settings.password_code_minutes)

    def apply(doc: Document) -> Change[None]:
        event = AccountPasswordCodeIssued(
            user_id=str(doc["_id"]), issued_at=now, expires_at=code.expires_at
        )
        # A reset: the old password stops working as well as the account's tokens.
        update: Document = {
            "$set": {"password_code": stored, "password_hash": None},
            "$inc": {"token_version": 1},
        }
        return Change(update, [event])

    await _change(store, user_id, apply, admin.actor)
    log.info("password code issued", extra={"user_id": user_id})
    return code


@password_router.post(PASSWORD_PATH, status_code=204)
async def set_password(body: PasswordSetRequest, store: StoreDep) -> Response:
    """Set the account's password with the code the administrator handed over."""
    user_id = body.code.split(".", 1)[0]
    if not re.fullmatch(ID_PATTERN, user_id):
        raise RuleViolationError("body.code", BAD_CODE, status_code=400)
    try:
        # argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
        password_hash = await run_in_threadpool(hash_password, body.password)
    except WeakPasswordError as exc:
        raise RuleViolationError("body.password", str(exc)) from None
    accounts = _accounts(store, lambda: RuleViolationError("body.code", BAD_CODE, status_code=400))

    def apply(doc: Document) -> Change[None]:
        now = datetime.now(UTC)
        if not code_matches(doc.get("password_code"), body.code, now):
            raise RuleViolationError("body.code", BAD_CODE, status_code=400)
        update: Document = {
            "$set": {"password_hash": password_hash},
            "$unset": {"password_code": ""},
            "$inc": {"token_version": 1},
        }
        return Change(update, [AccountPasswordSet(user_id=str(doc["_id"]), set_at=now)])

    doc = await accounts.load(user_id)
    owner = Actor(id=user_id, role=str(doc["role"]))
    await _change(store, user_id, apply, owner, accounts)
    log.info("password set with a code", extra={"user_id": user_id})
    return Response(status_code=204)
