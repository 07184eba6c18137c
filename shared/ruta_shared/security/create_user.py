"""`ruta-create-user`: creates a staff user of Ruta's own issuer (password typed or on stdin)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from pymongo import AsyncMongoClient

from ruta_shared.security.passwords import WeakPasswordError, check_password_policy
from ruta_shared.security.principal import OFFICES, Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.security.users import UserExistsError, UserStore
from ruta_shared.settings import ServiceSettings

STAFF_ROLES = [role.value for role in Role if role is not Role.PARTNER]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="ruta-create-user",
        description="Crea un usuario de Ruta (emisor local). La contraseña se pide por "
        "teclado o se lee de la entrada estándar con --password-stdin.",
    )
    parser.add_argument("--username", required=True)
    parser.add_argument("--role", required=True, choices=STAFF_ROLES)
    parser.add_argument(
        "--office",
        action="append",
        default=[],
        choices=OFFICES,
        help="oficina del usuario; repetir para varias",
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="leer la contraseña de la entrada estándar"
    )
    parser.add_argument(
        "--mongo-url", default=None, help="por defecto RUTA_MONGO_URL o el servidor local"
    )
    return parser.parse_args(argv)


def read_password(from_stdin: bool) -> str:
    """The new password, from stdin (first line) or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Contraseña: ")
    if getpass.getpass("Repita la contraseña: ") != first:
        msg = "Las contraseñas no coinciden."
        raise WeakPasswordError(msg)
    return first


async def create_user(
    *, mongo_url: str, database: str, username: str, password: str, role: Role, offices: list[str]
) -> str:
    """Create the user; returns its id."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        mongo_url, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    try:
        store = UserStore(client[database])
        await store.ensure_indexes()
        user = await store.create(username=username, password=password, role=role, offices=offices)
        return user.id
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `ruta-create-user`."""
    args = parse_args(argv)
    security = SecuritySettings()
    mongo_url = args.mongo_url or ServiceSettings().mongo_url
    try:
        password = read_password(args.password_stdin)
        check_password_policy(password)
        user_id = asyncio.run(
            create_user(
                mongo_url=mongo_url,
                database=security.auth_mongo_database,
                username=args.username,
                password=password,
                role=Role(args.role),
                offices=args.office,
            )
        )
    except (WeakPasswordError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except UserExistsError:
        print("error: ya existe un usuario con ese nombre.", file=sys.stderr)  # noqa: T201
        return 1
    print(f"usuario creado: id={user_id} rol={args.role} oficinas={','.join(args.office) or '-'}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
