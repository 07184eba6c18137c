"""Outages in the logs: one line when a dependency goes down, sparse reminders, one at its end."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

Clock = Callable[[], float]


class OutageLog:
    """Reports an outage of one dependency once, then at doubling intervals, and its end once.

    A relay or consumer that retries every second would otherwise log every failed round:
    thousands of identical lines that bury everything else during a Kafka or database outage.
    """

    def __init__(
        self,
        logger: logging.Logger,
        dependency: str,
        *,
        first_reminder: float = 60.0,
        max_reminder: float = 3600.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._log = logger
        self._dependency = dependency
        self._first = first_reminder
        self._max = max_reminder
        self._clock = clock
        self._since: float | None = None
        self._next_report = 0.0
        self._interval = first_reminder
        self._failures = 0

    @property
    def down(self) -> bool:
        """True between the first failure and the next success."""
        return self._since is not None

    def failed(self, error: BaseException | str, **extra: Any) -> None:
        """Record a failed attempt; logs only the first one and sparse reminders."""
        now = self._clock()
        kind = error if isinstance(error, str) else type(error).__name__
        self._failures += 1
        fields = {"dependency": self._dependency, "error": kind, **extra}
        if self._since is None:
            self._since = now
            self._next_report = now + self._first
            self._interval = self._first
            self._log.warning("%s unreachable", self._dependency, extra=fields)
        elif now >= self._next_report:
            self._interval = min(self._interval * 2, self._max)
            self._next_report = now + self._interval
            fields.update(failures=self._failures, down_seconds=round(now - self._since, 1))
            self._log.warning("%s still unreachable", self._dependency, extra=fields)

    def recovered(self) -> None:
        """Record a success; logs the end of an outage once (nothing when there was none)."""
        if self._since is None:
            return
        down_for = round(self._clock() - self._since, 1)
        self._log.info(
            "%s reachable again",
            self._dependency,
            extra={
                "dependency": self._dependency,
                "down_seconds": down_for,
                "failures": self._failures,
            },
        )
        self._since = None
        self._failures = 0


class RepeatFilter(logging.Filter):
    """Lets a warning or error through once, then again only after a doubling pause.

    Repeats are told apart by logger, message template (not the arguments, which vary with
    broker ids and addresses) and the `error` type a record names: aiokafka logs each failed
    connection attempt at ERROR, several a second per client while a broker is down, and
    retry loops warn on every round. The line that passes after a pause says how many were
    held back (`suppressed_repeats`). Lower levels pass untouched.
    """

    def __init__(
        self,
        *,
        first_pause: float = 60.0,
        max_pause: float = 3600.0,
        clock: Clock = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        super().__init__()
        self._first = first_pause
        self._max = max_pause
        self._clock = clock
        self._max_keys = max_keys
        # (logger, template) -> (next time it may pass, current pause, suppressed since)
        self._seen: dict[tuple[str, str, str], tuple[float, float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg), str(getattr(record, "error", "")))
        now = self._clock()
        seen = self._seen.get(key)
        if seen is None:
            if len(self._seen) >= self._max_keys:
                self._seen.clear()  # bounded memory; at worst a repeat passes once more
            self._seen[key] = (now + self._first, self._first, 0)
            return True
        next_time, pause, suppressed = seen
        if now < next_time:
            self._seen[key] = (next_time, pause, suppressed + 1)
            return False
        pause = min(pause * 2, self._max)
        self._seen[key] = (now + pause, pause, 0)
        record.suppressed_repeats = suppressed
        return True
