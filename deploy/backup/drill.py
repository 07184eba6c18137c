"""The backup drill: back up every database and the keys, wipe both, restore, prove nothing changed.

Run it with the servers up and the services stopped (`scripts/backup-drill --help`). It
exits 0 only if, after the restore, every collection is identical to before (so every
figure is), every person's personal data decrypts with the restored keys, and every audit
trail verifies; it prints what it compared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive import digest, dump, restore, say
from pymongo import AsyncMongoClient
from ruta_analytics.audit.rules import verify_trail
from ruta_analytics.projection.models import AUDIT, AUDIT_HEADS
from ruta_analytics.projection.store import GENERATIONS, active_generation
from ruta_shared.security.crypto import DataErasedError, DataKeyStore
from ruta_shared.security.keys import load_master_keyring
from ruta_shared.security.settings import SecuritySettings

Document = dict[str, Any]
SERVICE_DATABASES = ("ruta_intake", "ruta_referrals", "ruta_training", "ruta_analytics")
PERSONAL_DATA = {"victim": "victim_personal_data", "relative": "relative_personal_data"}


@dataclass(frozen=True)
class Evidence:
    """What the drill compares before and after: contents, readable people, verified trails."""

    digests: dict[str, Any]
    readable: int
    erased: int
    trails: int
    broken: list[str]


async def evidence(
    client: AsyncMongoClient[Document], args: argparse.Namespace, databases: list[str]
) -> Evidence:
    """Digest every database, decrypt every person's data, verify every audit trail."""
    digests = {db: await digest(client, db) for db in databases}
    readable, erased = await read_personal_data(client[args.intake_database], args.key_dir)
    trails, broken = await verify_trails(client[args.analytics_database])
    return Evidence(digests, readable, erased, trails, broken)


async def read_personal_data(db: Any, key_dir: Path) -> tuple[int, int]:
    """(people whose every field decrypts, people erased); raises if any cannot be read."""
    keys = DataKeyStore(db, load_master_keyring(SecuritySettings(key_dir=key_dir)))
    readable = erased = 0
    for subject_type, collection in PERSONAL_DATA.items():
        async for doc in db[collection].find({}):
            try:
                key = await keys.get(subject_type, str(doc["_id"]))
            except DataErasedError:
                erased += 1
                continue
            for name, token in (doc.get("fields") or {}).items():
                key.decrypt(name, token)  # raises if the key or the data is not the original
            readable += 1
    return readable, erased


async def verify_trails(db: Any) -> tuple[int, list[str]]:
    """(trails in the ledger, trails whose chains do not verify)."""
    if GENERATIONS not in await db.list_collection_names():
        return 0, []
    generation = await active_generation(db, create=False)
    entries: dict[str, list[Document]] = defaultdict(list)
    heads: dict[str, list[Document]] = defaultdict(list)
    async for entry in generation.collection(AUDIT).find({}):
        entries[str(entry["trail"])].append(entry)
    async for head in generation.collection(AUDIT_HEADS).find({}):
        heads[str(head["trail"])].append(head)
    trails = sorted(set(entries) | set(heads))
    broken = [t for t in trails if verify_trail(entries[t], heads[t]) is not None]
    return len(trails), broken


async def drill(args: argparse.Namespace) -> int:
    """Back up, wipe, restore, compare; 0 when everything came back as it was."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(args.mongo_url, tz_aware=True)
    try:
        present = set(await client.list_database_names())
        databases = [db for db in args.databases if db in present]
        before = await evidence(client, args, databases)
        say(f"drill: {before.readable} people readable, {before.trails} audit trails")
        await dump(client, databases, args.backup_dir)
        shutil.copytree(args.key_dir, args.keys_backup_dir, dirs_exist_ok=False)
        say(f"drill: backup in {args.backup_dir}, keys in {args.keys_backup_dir}")

        for database in databases:  # the wipe: nothing of the stack's data is left
            await client.drop_database(database)
        shutil.rmtree(args.key_dir)
        left = set(await client.list_database_names()) & set(databases)
        say(f"drill: wiped {len(databases)} databases and {args.key_dir} (left: {sorted(left)})")

        await restore(client, args.backup_dir)
        shutil.copytree(args.keys_backup_dir, args.key_dir)
        after = await evidence(client, args, databases)
    finally:
        await client.close()
    return report(before, after, wiped_left=left)


def report(before: Evidence, after: Evidence, *, wiped_left: set[str]) -> int:
    """Print the comparison; 0 when the restore gave back exactly what was backed up."""
    same = before.digests == after.digests
    checks = {
        "wipe left nothing": not wiped_left,
        "every collection identical (every figure equal)": same,
        "personal data readable": after.readable == before.readable and after.readable > 0,
        "erased people still erased": after.erased == before.erased,
        "every audit trail verifies": not after.broken and after.trails == before.trails,
    }
    documents = sum(d.count for db in after.digests.values() for d in db.values())
    print(  # noqa: T201 (the drill's report is its output)
        f"databases: {len(after.digests)}, documents: {documents}, people readable: "
        f"{after.readable} (erased: {after.erased}), audit trails verified: "
        f"{after.trails - len(after.broken)}/{after.trails}"
    )
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")  # noqa: T201
    return 0 if all(checks.values()) else 1


def parse(argv: list[str]) -> argparse.Namespace:
    """The drill's options (defaults: the local stack's servers, keys and databases)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    parser = argparse.ArgumentParser(prog="backup-drill", description=__doc__)
    parser.add_argument(
        "--mongo-url", default=os.environ.get("RUTA_MONGO_URL", "mongodb://127.0.0.1:27017/")
    )
    parser.add_argument(
        "--key-dir", type=Path, default=Path(os.environ.get("RUTA_KEY_DIR", ".local/keys"))
    )
    parser.add_argument("--backup-dir", type=Path, default=Path(f".local/backups/{stamp}/data"))
    parser.add_argument(
        "--keys-backup-dir",
        type=Path,
        default=None,
        help="where the key copy goes; keep it apart from the data backup",
    )
    parser.add_argument("--databases", nargs="+", default=[*SERVICE_DATABASES, "ruta_auth"])
    parser.add_argument("--intake-database", default="ruta_intake")
    parser.add_argument("--analytics-database", default="ruta_analytics")
    args = parser.parse_args(argv)
    if args.keys_backup_dir is None:
        args.keys_backup_dir = args.backup_dir.parent / "keys"
    return args


def main() -> None:
    """`scripts/backup-drill`."""
    sys.exit(asyncio.run(drill(parse(sys.argv[1:]))))


if __name__ == "__main__":
    main()
