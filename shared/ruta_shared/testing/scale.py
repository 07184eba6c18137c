"""Steady load through several replicas of a service, retrying unanswered requests elsewhere."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

Body = dict[str, Any]
RUNNING_WAIT_SECONDS = 20.0  # how long a retry waits out "aún está en curso" (a dead claim)


def victim_body(number: int) -> Body:
    """A minor victim with personal data (a document number unique within the run)."""
    return {
        "sex": "female",
        "nationality": "PE",
        "region_of_origin": "16",
        "indigenous_people": False,
        "personal_data": {
            "given_names": "María Rosa",
            "family_names": "Quispe Huamán",
            "document_type": "dni",
            "document_number": f"{70_000_000 + number:08d}",
            "birth_date": "2010-04-12",
            "address": "Jr. Los Pinos 123, Iquitos",
        },
    }


def case_body(number: int) -> Body:
    """A case in Lima with one victim."""
    return {
        "office": "lima",
        "crime_types": ["trafficking"],
        "exploitation_purposes": ["sexual"],
        "region_of_exploitation": "17",
        "arrival_channel": "institution_referral",
        "referring_institution_kind": "prosecutor",
        "victims": [victim_body(number)],
    }


def session_body() -> Body:
    """A two-day workshop in Lima."""
    return {
        "office": "lima",
        "title": "Taller de identificación de víctimas de trata",
        "format": "workshop",
        "topics": ["trafficking"],
        "audiences": ["justice_operators"],
        "region": "15",
        "modality": "in_person",
        "venue": "Auditorio del Ministerio Público",
        "starts_on": "2017-05-03",
        "ends_on": "2017-05-04",
        "pedagogic_hours": 10,
        "project_code": "PRJ-2017-01",
    }


@dataclass
class Tally:
    """What the load sent and what came back (no personal data: ids and status codes)."""

    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # "<kind> <status>"
    retried: int = 0  # requests resent with their Idempotency-Key to another replica
    unresolved: list[str] = field(default_factory=list)  # kinds that never got an answer
    cases: list[str] = field(default_factory=list)  # case ids answered 201
    victims: list[str] = field(default_factory=list)  # victim ids answered 201
    sessions: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)

    def ok(self, kind: str) -> int:
        """How many requests of `kind` were answered 2xx."""
        return sum(n for key, n in self.statuses.items() if key.startswith(f"{kind} 2"))


class Replicas:
    """HTTP clients of one service's replicas, taken in turn; a dead replica is skipped."""

    def __init__(self, urls: list[str], headers: dict[str, str]) -> None:
        self.clients = [httpx.AsyncClient(base_url=u, timeout=15, headers=headers) for u in urls]
        self._turn = itertools.cycle(range(len(urls)))
        self.dead: set[int] = set()

    def next(self) -> int:
        """The index of the next replica in turn."""
        return next(self._turn)

    async def close(self) -> None:
        """Close every client."""
        await asyncio.gather(*(client.aclose() for client in self.clients))

    async def post(
        self, tally: Tally, kind: str, path: str, body: Body, *, first: int | None = None
    ) -> httpx.Response | None:
        """POST with a fresh Idempotency-Key to the replica in turn; when it gives no answer
        (it died), the same request and key go to the others, waiting out a key left
        running by the dead replica for at most RUNNING_WAIT_SECONDS."""
        key = uuid.uuid4().hex
        start = self.next() if first is None else first
        order = [(start + n) % len(self.clients) for n in range(len(self.clients))]
        order.sort(key=lambda index: index in self.dead)  # a known-dead replica goes last
        tally.sent += 1
        for attempt, index in enumerate(order):
            if attempt:
                tally.retried += 1
            answer = await self._post_waiting(index, path, body, key)
            if answer is None:
                continue
            tally.statuses[f"{kind} {answer.status_code}"] += 1
            if answer.status_code == 409 and "en curso" in answer.text:
                tally.unresolved.append(f"{kind} (clave en curso)")
            return answer
        tally.unresolved.append(kind)
        return None

    async def _post_waiting(
        self, index: int, path: str, body: Body, key: str
    ) -> httpx.Response | None:
        deadline = time.monotonic() + RUNNING_WAIT_SECONDS
        while True:
            try:
                answer = await self.clients[index].post(
                    path, json=body, headers={"Idempotency-Key": key}
                )
            except httpx.HTTPError:
                self.dead.add(index)
                return None
            still_running = answer.status_code == 409 and "en curso" in answer.text
            if not still_running or time.monotonic() > deadline:
                return answer
            await asyncio.sleep(1.0)
