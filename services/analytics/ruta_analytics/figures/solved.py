"""The suppressed view's solutions: kept by a process per projection state, the latest per
scope (served while the next one is solved in the background), and stored in the generation
for every process and replica.

A solution is stored once per scope (office scope and k) as a small head document (`_id` the
scope: the state it was solved for, the body's `_id`, a solve lease) and a body (the figures
and mask, one compressed JSON blob). A process that has none of a scope in memory (a new one,
another replica) loads the stored one instead of solving; a background refresh solves a new
state only under the scope's lease, so replicas do not all solve the same state, and one that
finds a stored solution of the state it wants takes it. The previous body is kept until the
next solution is stored, so a reader that has just read the head still finds its body.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bson import Binary
from pymongo.errors import DuplicateKeyError

from ruta_analytics.figures.models import Document
from ruta_analytics.figures.publication import ALL, Key, Period
from ruta_analytics.projection.store import SOLVED, Generation

CACHED_STATES: Final = 8  # projection states kept per process (one per scope and batch)
LEASE: Final = timedelta(seconds=30)  # a solve's hold on its scope (a dead holder's expires)
RELEASED: Final = datetime(1970, 1, 1, tzinfo=UTC)
State = tuple[int, str]  # batches applied, Lima day (ISO)


@dataclass(frozen=True)
class Solution:
    """The exact figures of every (whose, period) of a scope, and the keys hidden in them."""

    by_period: dict[Period, Document]
    hidden: set[Key]

    def years(self, whose: str | None) -> list[int]:
        """The years with facts of `whose` (a project's code, or None: every fact)."""
        return sorted(year for who, year in self.by_period if who == whose and year != ALL)


@dataclass
class SolvedStates:
    """Solutions by projection state, the latest one of each scope, and the refreshes under
    way (one per scope)."""

    states: OrderedDict[Any, Solution] = field(default_factory=OrderedDict)
    latest: dict[Any, Solution] = field(default_factory=dict)
    refreshing: dict[Any, asyncio.Task[None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.states)

    def keep(self, state: Any, scope: Any, solved: Solution) -> None:
        """Keep `solved` as the solution of `state` and the latest of `scope`."""
        self.states[state] = solved
        self.states.move_to_end(state)
        while len(self.states) > CACHED_STATES:
            self.states.popitem(last=False)
        self.latest[scope] = solved


def scope_id(offices: tuple[str, ...] | None, k: int) -> str:
    """The stored head's `_id` of an office scope (None: the whole country) and k."""
    return f"k{k}:" + ("*" if offices is None else ",".join(offices))


def encode(solved: Solution) -> bytes:
    """A solution as one compressed JSON blob."""
    body = {
        "periods": [
            [whose, period, figures] for (whose, period), figures in solved.by_period.items()
        ],
        "hidden": list(solved.hidden),
    }
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 1)


def decode(blob: bytes) -> Solution:
    """The solution `encode` stored (keys are tuples of strings, numbers and None)."""
    body = json.loads(zlib.decompress(blob))
    by_period = {(whose, period): figures for whose, period, figures in body["periods"]}
    return Solution(by_period, {_key(key) for key in body["hidden"]})


def _key(value: Any) -> Any:
    """A key JSON turned into lists, as the tuple it was."""
    return tuple(_key(part) for part in value) if isinstance(value, list) else value


async def stored_state(generation: Generation, scope: str) -> tuple[State, str] | None:
    """The state the scope's stored solution was solved for and its body's `_id` (None: none
    stored yet)."""
    head = await generation.collection(SOLVED).find_one({"_id": scope})
    if head is None or "body" not in head:
        return None
    return (int(head["state"][0]), str(head["state"][1])), str(head["body"])


async def load(generation: Generation, body: str) -> Solution | None:
    """The stored solution `body` (None if a newer one replaced it meanwhile)."""
    found = await generation.collection(SOLVED).find_one({"_id": body})
    # Decoded in a thread: the event loop keeps answering other reads meanwhile.
    return None if found is None else await asyncio.to_thread(decode, bytes(found["blob"]))


async def stored_solution(generation: Generation, scope: str) -> tuple[State, Solution] | None:
    """The scope's stored solution and its state (None: none stored yet)."""
    for _ in range(2):  # the body may have been replaced between the two reads: once more
        head = await stored_state(generation, scope)
        if head is None:
            return None
        solved = await load(generation, head[1])
        if solved is not None:
            return head[0], solved
    return None


async def take_lease(generation: Generation, scope: str) -> bool:
    """Hold the scope's solve lease (False: another process holds it)."""
    now = datetime.now(UTC)
    try:
        await generation.collection(SOLVED).update_one(
            {"_id": scope, "lease": {"$lt": now}}, {"$set": {"lease": now + LEASE}}, upsert=True
        )
    except DuplicateKeyError:  # the head exists and its lease has not run out
        return False
    return True


async def release_lease(generation: Generation, scope: str) -> None:
    """Let another process solve the scope (after a failed solve)."""
    await generation.collection(SOLVED).update_one({"_id": scope}, {"$set": {"lease": RELEASED}})


async def store(generation: Generation, scope: str, state: State, solved: Solution) -> None:
    """Store `solved` as the scope's latest (solved for `state`) and release the lease; the
    body before the one it replaces is dropped."""
    collection = generation.collection(SOLVED)
    body = f"{scope}@{state[0]}@{state[1]}"
    blob = Binary(await asyncio.to_thread(encode, solved))
    await collection.replace_one({"_id": body}, {"blob": blob}, upsert=True)
    before = await collection.find_one_and_update(
        {"_id": scope},
        {"$set": {"state": list(state), "body": body, "lease": RELEASED}},
        upsert=True,
    )
    replaced, older = (before or {}).get("body"), (before or {}).get("previous")
    if replaced in (None, body):
        return
    await collection.update_one({"_id": scope}, {"$set": {"previous": replaced}})
    if older not in (None, body, replaced):
        await collection.delete_one({"_id": older})
