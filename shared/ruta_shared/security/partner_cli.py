"""`ruta-partner-credential`: issues, rotates or revokes a partner institution's credential."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from pymongo import AsyncMongoClient

from ruta_shared.security.partners import (
    CredentialExistsError,
    CredentialNotFoundError,
    IssuedCredential,
    PartnerCredentialStore,
)
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.settings import ServiceSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="ruta-partner-credential",
        description="Emite, rota o revoca la credencial de una institución socia. "
        "El secreto se muestra una sola vez.",
    )
    parser.add_argument("action", choices=["issue", "rotate", "revoke"])
    parser.add_argument("--institution", required=True, help="id de la institución")
    parser.add_argument(
        "--grace-minutes",
        type=int,
        default=None,
        help="al rotar, minutos en que el secreto anterior sigue valiendo",
    )
    parser.add_argument("--mongo-url", default=None)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> IssuedCredential | bool:
    """Carry out the action against the auth database."""
    security = SecuritySettings()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        args.mongo_url or ServiceSettings().mongo_url, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    try:
        store = PartnerCredentialStore(client[security.auth_mongo_database])
        await store.ensure_indexes()
        if args.action == "issue":
            return await store.issue(args.institution)
        if args.action == "rotate":
            minutes = (
                security.partner_rotation_grace_minutes
                if args.grace_minutes is None
                else args.grace_minutes
            )
            return await store.rotate(args.institution, grace=timedelta(minutes=minutes))
        return await store.revoke(args.institution)
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `ruta-partner-credential`."""
    args = parse_args(argv)
    try:
        result = asyncio.run(run(args))
    except CredentialExistsError:
        print("error: la institución ya tiene una credencial; use rotate.", file=sys.stderr)  # noqa: T201
        return 1
    except CredentialNotFoundError:
        print("error: la institución no tiene una credencial activa.", file=sys.stderr)  # noqa: T201
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    if isinstance(result, bool):
        print("credencial revocada" if result else "no había credencial activa")  # noqa: T201
        return 0 if result else 1
    print(f"client_id={result.client_id}")  # noqa: T201
    print(f"client_secret={result.client_secret}")  # noqa: T201
    print(f"api_key={result.api_key}")  # noqa: T201
    print("Guarde el secreto ahora: Ruta no lo vuelve a mostrar.", file=sys.stderr)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
