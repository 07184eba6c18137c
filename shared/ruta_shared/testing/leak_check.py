"""Leak check for tests: plant canary personal data, then scan Kafka, logs, /metrics and errors.

Usage in a service test::

    leaks = LeakChecker()
    person = leaks.new_person()          # unique fake names, document, birth date, ...
    ...register `person` through the public API, with `leaks.record_response` as an
       httpx response hook and `leaks.capture_logs()` around the work...
    leaks.scan_metrics(client.get("/metrics").text)
    await leaks.scan_kafka(kafka_bootstrap)
    leaks.assert_clean()                 # AssertionError naming every channel that leaked

Canary values are random and ASCII-only (so JSON escaping cannot hide them), and each is
also searched in the forms a leak commonly takes: upper and lower case, a document number
without separators, a phone number's bare digits, a birth date as `DD/MM/YYYY`.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from io import StringIO
from typing import Any

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, TopicPartition
from pythonjsonlogger.json import JsonFormatter

_CONSONANTS = "bcdfghjklmnprstvz"
_VOWELS = "aeiou"


def _word(length: int) -> str:
    """A pronounceable random word that no real text contains by chance."""
    letters = [secrets.choice(_CONSONANTS if i % 2 == 0 else _VOWELS) for i in range(length - 2)]
    return "Qx" + "".join(letters)


@dataclass(frozen=True)
class CanaryPerson:
    """Fake personal data, unique per test run, to plant through a public API."""

    given_names: str
    family_names: str
    document_number: str
    birth_date: date
    phone: str
    address: str
    notes: str
    relative_name: str

    @property
    def full_name(self) -> str:
        """Given and family names together."""
        return f"{self.given_names} {self.family_names}"

    def fields(self) -> dict[str, str]:
        """Each personal field as the API would receive it."""
        return {
            "given_names": self.given_names,
            "family_names": self.family_names,
            "document_number": self.document_number,
            "birth_date": self.birth_date.isoformat(),
            "phone": self.phone,
            "address": self.address,
            "notes": self.notes,
            "relative_name": self.relative_name,
        }

    def needles(self) -> dict[str, str]:
        """Every string whose appearance anywhere means a leak, by what it is."""
        digits = "".join(c for c in self.phone if c.isdigit())
        found = {
            "given_names": self.given_names,
            "family_names": self.family_names,
            "document_number": self.document_number,
            "document_number (normalised)": self.document_number.replace("-", ""),
            "birth_date": self.birth_date.isoformat(),
            "birth_date (DD/MM/YYYY)": self.birth_date.strftime("%d/%m/%Y"),
            "phone": self.phone,
            "phone (digits)": digits[-9:],
            "address": self.address,
            "notes": self.notes,
            "relative_name": self.relative_name,
        }
        # Each word of a name on its own is a leak too (e.g. a log line with the first name).
        for label in ("given_names", "family_names", "relative_name"):
            for i, part in enumerate(found[label].split()):
                found[f"{label} (word {i + 1})"] = part
        return found


def new_canary_person() -> CanaryPerson:
    """A fresh canary person (a minor, as most victims are)."""
    today = date.today()
    # Born 10 to 16 years ago: a plausible minor, never today's date or a timestamp's.
    birth = today - timedelta(days=365 * 10 + secrets.randbelow(365 * 6))
    doc = "".join(secrets.choice(string.digits) for _ in range(8))
    phone_digits = "9" + "".join(secrets.choice(string.digits) for _ in range(8))
    return CanaryPerson(
        given_names=f"{_word(8)} {_word(7)}",
        family_names=f"{_word(9)} {_word(8)}",
        document_number=f"{doc[:4]}-{doc[4:]}",
        birth_date=birth,
        phone=f"+51 {phone_digits[:3]} {phone_digits[3:6]} {phone_digits[6:]}",
        address=f"Jiron {_word(9)} {100 + secrets.randbelow(900)}",
        notes=f"Nota confidencial {_word(10)} {_word(10)}",
        relative_name=f"{_word(8)} {_word(9)}",
    )


@dataclass(frozen=True)
class Leak:
    """One canary found somewhere it must not be."""

    channel: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.channel} [{self.where}]: {self.what}"


@dataclass
class LeakChecker:
    """Collects canaries and scans every channel for them; `assert_clean()` fails on any leak."""

    people: list[CanaryPerson] = field(default_factory=list)
    extra_needles: dict[str, str] = field(default_factory=dict)
    leaks: list[Leak] = field(default_factory=list)
    _responses: list[tuple[str, int, str]] = field(default_factory=list)

    def new_person(self) -> CanaryPerson:
        """A fresh canary person whose data this checker will look for."""
        person = new_canary_person()
        self.people.append(person)
        return person

    def add_needle(self, label: str, value: str) -> None:
        """Look for any other planted secret too (e.g. a free-text justification)."""
        if len(value) < 6:
            msg = "needles shorter than 6 characters would match by chance"
            raise ValueError(msg)
        self.extra_needles[label] = value

    def needles(self) -> dict[str, str]:
        """Every string to look for, labelled (labels never contain the value)."""
        found = dict(self.extra_needles)
        for number, person in enumerate(self.people, start=1):
            for label, value in person.needles().items():
                found[f"person {number} {label}"] = value
        return found

    def scan_text(self, channel: str, where: str, text: str) -> list[Leak]:
        """Record and return every needle found in `text` (case-insensitively)."""
        haystack = text.lower()
        found = [
            Leak(channel, where, label)
            for label, value in self.needles().items()
            if value.lower() in haystack
        ]
        self.leaks.extend(found)
        return found

    def scan_logs(self, text: str, where: str = "captured logs") -> list[Leak]:
        """Scan log output (JSON lines or plain text)."""
        return self.scan_text("logs", where, text)

    def scan_metrics(self, text: str, where: str = "/metrics") -> list[Leak]:
        """Scan a Prometheus exposition."""
        return self.scan_text("metrics", where, text)

    async def record_response(self, response: Any) -> None:
        """An httpx response hook: keep every error response (status >= 400) for scanning."""
        if response.status_code >= 400:
            body = await response.aread() if hasattr(response, "aread") else response.content
            self._responses.append(
                (
                    f"{response.request.method} {response.request.url.path}",
                    response.status_code,
                    _text(body),
                )
            )

    def record_error_response(self, request_line: str, status: int, body: str | bytes) -> None:
        """Keep one error response (for clients without hooks, e.g. a TestClient)."""
        if status >= 400:
            self._responses.append((request_line, status, _text(body)))

    def scan_responses(self) -> list[Leak]:
        """Scan every recorded error response's body (URLs are scanned too)."""
        found: list[Leak] = []
        for request_line, status, body in self._responses:
            found += self.scan_text("error responses", f"{request_line} -> {status}", body)
            found += self.scan_text("urls", request_line, request_line)
        return found

    @contextmanager
    def capture_logs(self, level: int = logging.DEBUG) -> Iterator[StringIO]:
        """Capture every log record (message and extras, as JSON) while the block runs.

        The captured text is scanned when the block ends.
        """
        buffer = StringIO()
        handler = logging.StreamHandler(buffer)
        handler.setLevel(level)
        handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{message}", style="{"))
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(min(old_level, level) if old_level else level)
        try:
            yield buffer
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            self.scan_logs(buffer.getvalue())

    async def scan_kafka(
        self,
        bootstrap_servers: str,
        *,
        topics: Iterable[str] | None = None,
        timeout_seconds: float = 30.0,
    ) -> list[Leak]:
        """Read every topic (or `topics`) from the beginning to its end and scan each message.

        Keys, values and headers are all scanned. Kafka's own internal topics are skipped.
        """
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # A throwaway group that never commits: aiokafka 0.14 fails to stop a
            # group-less consumer cleanly.
            group_id=f"ruta-leak-check-{secrets.token_hex(6)}",
        )
        await consumer.start()
        found: list[Leak] = []
        try:
            cluster = await _cluster_metadata(bootstrap_servers)
            names = sorted(topics) if topics is not None else sorted(cluster.topics())
            names = [n for n in names if not n.startswith("__")]
            partitions = [
                TopicPartition(name, p)
                for name in names
                for p in sorted(cluster.partitions_for_topic(name) or ())
            ]
            if not partitions:
                return found
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            remaining = {tp for tp, end in ends.items() if end > 0}
            loop_deadline = _Deadline(timeout_seconds)
            while remaining and not loop_deadline.passed():
                batches = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, records in batches.items():
                    for record in records:
                        parts = [_text(record.key), _text(record.value)]
                        parts += [f"{k}={_text(v)}" for k, v in record.headers or ()]
                        found += self.scan_text(
                            "kafka", f"{tp.topic}[{tp.partition}]@{record.offset}", "\n".join(parts)
                        )
                for tp in list(remaining):
                    if await consumer.position(tp) >= ends[tp]:
                        remaining.discard(tp)
            if remaining:
                msg = f"could not read to the end of {sorted(str(tp) for tp in remaining)}"
                raise AssertionError(msg)
        finally:
            await consumer.stop()
        return found

    def assert_clean(self) -> None:
        """Scan the recorded responses, then fail listing every leak found on any channel."""
        self.scan_responses()
        if self.leaks:
            unique = sorted({str(leak) for leak in self.leaks})
            listing = "\n  ".join(unique)
            msg = f"canary personal data leaked ({len(unique)}):\n  {listing}"
            raise AssertionError(msg)


async def _cluster_metadata(bootstrap_servers: str) -> Any:
    """Fresh metadata of every topic (a consumer only keeps metadata of what it reads)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers)
    await client.bootstrap()
    try:
        return await client.fetch_all_metadata()
    finally:
        await client.close()


class _Deadline:
    def __init__(self, seconds: float) -> None:
        import time  # noqa: PLC0415 (kept local: only the Kafka scan needs a clock)

        self._time = time.monotonic
        self._end = self._time() + seconds

    def passed(self) -> bool:
        return self._time() > self._end


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
