"""Backup archives of Ruta's databases: every collection streamed to JSON lines, and back.

mongodump is not available beside FerretDB, so each collection is read with PyMongo in `_id`
order and written one document per line in MongoDB Extended JSON (canonical, so every BSON
type survives: dates, binary, 64-bit ints). A manifest records each collection's count,
indexes and the SHA-256 of its lines; restore checks all three.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo import AsyncMongoClient

Document = dict[str, Any]
OPTIONS = json_util.CANONICAL_JSON_OPTIONS
MANIFEST = "manifest.json"
BATCH = 500
PROGRESS_EVERY = 5_000


@dataclass(frozen=True)
class CollectionDigest:
    """What a collection held: its documents' count and the SHA-256 of their canonical lines."""

    count: int
    sha256: str


def say(line: str) -> None:
    """Progress on stderr (stdout is the drill's report)."""
    print(line, file=sys.stderr, flush=True)  # noqa: T201 (a command-line tool)


def line_of(doc: Document) -> str:
    """One document as one canonical Extended JSON line."""
    return json_util.dumps(doc, json_options=OPTIONS, sort_keys=True)


async def digest(client: AsyncMongoClient[Document], database: str) -> dict[str, CollectionDigest]:
    """Count and hash every collection of `database` (streamed, in `_id` order)."""
    db = client[database]
    result = {}
    for name in sorted(await db.list_collection_names()):
        hasher, count = hashlib.sha256(), 0
        async for doc in db[name].find({}, sort=[("_id", 1)], batch_size=BATCH):
            hasher.update(line_of(doc).encode() + b"\n")
            count += 1
        result[name] = CollectionDigest(count, hasher.hexdigest())
    return result


async def dump(client: AsyncMongoClient[Document], databases: Iterable[str], out: Path) -> Document:
    """Write every collection of `databases` under `out/<database>/`; returns the manifest."""
    manifest: Document = {"format": 1, "databases": {}}
    for database in databases:
        db = client[database]
        folder = out / database
        folder.mkdir(parents=True, exist_ok=True)
        collections: Document = {}
        for name in sorted(await db.list_collection_names()):
            hasher, count = hashlib.sha256(), 0
            with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as lines:
                async for doc in db[name].find({}, sort=[("_id", 1)], batch_size=BATCH):
                    line = line_of(doc) + "\n"
                    lines.write(line)
                    hasher.update(line.encode())
                    count += 1
                    if count % PROGRESS_EVERY == 0:
                        say(f"backup: {database}.{name}: {count} documents")
            indexes = [
                {"keys": list(index["key"].items()), "name": index["name"]}
                | ({"unique": True} if index.get("unique") else {})
                async for index in await db[name].list_indexes()
                if index["name"] != "_id_"
            ]
            collections[name] = {"count": count, "sha256": hasher.hexdigest(), "indexes": indexes}
            say(f"backup: {database}.{name}: {count} documents, done")
        manifest["databases"][database] = collections
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


async def restore(client: AsyncMongoClient[Document], backup: Path) -> Document:
    """Load every collection of a backup into empty databases; fail on any mismatch."""
    manifest: Document = json.loads((backup / MANIFEST).read_text())
    for database, collections in manifest["databases"].items():
        db = client[database]
        existing = await db.list_collection_names()
        if existing:
            msg = f"restore: database {database} is not empty ({len(existing)} collections)"
            raise SystemExit(msg)
        for name, expected in collections.items():
            for index in expected["indexes"]:
                await db[name].create_index(
                    index["keys"], name=index["name"], unique=index.get("unique", False)
                )
            hasher, count, batch = hashlib.sha256(), 0, []
            with (backup / database / f"{name}.jsonl").open(encoding="utf-8") as lines:
                for line in lines:
                    hasher.update(line.encode())
                    batch.append(json_util.loads(line, json_options=OPTIONS))
                    if len(batch) >= BATCH:
                        count += await _insert(db[name], batch)
                        batch = []
                        if count % PROGRESS_EVERY == 0:
                            say(f"restore: {database}.{name}: {count} documents")
            count += await _insert(db[name], batch)
            if count != expected["count"] or hasher.hexdigest() != expected["sha256"]:
                msg = f"restore: {database}.{name} does not match the manifest"
                raise SystemExit(msg)
            if name not in await db.list_collection_names():  # an empty collection
                await db.create_collection(name)
            say(f"restore: {database}.{name}: {count} documents, checked")
    return manifest


async def _insert(collection: Any, batch: list[Document]) -> int:
    if batch:
        await collection.insert_many(batch, ordered=True)
    return len(batch)


def main() -> None:
    """`archive.py backup|restore`: the two halves of the drill, for real use."""
    parser = argparse.ArgumentParser(prog="archive.py", description=__doc__)
    parser.add_argument(
        "--mongo-url", default=os.environ.get("RUTA_MONGO_URL", "mongodb://127.0.0.1:27017/")
    )
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="dump databases to a folder")
    backup.add_argument("--out", type=Path, required=True)
    backup.add_argument("--databases", nargs="+", required=True)
    load = commands.add_parser("restore", help="load a backup into empty databases")
    load.add_argument("--from", dest="source", type=Path, required=True)
    args = parser.parse_args()

    async def run() -> None:
        client: AsyncMongoClient[Document] = AsyncMongoClient(args.mongo_url, tz_aware=True)
        try:
            if args.command == "backup":
                await dump(client, args.databases, args.out)
            else:
                await restore(client, args.source)
        finally:
            await client.close()

    asyncio.run(run())


if __name__ == "__main__":
    main()
