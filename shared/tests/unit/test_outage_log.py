"""OutageLog and RepeatFilter: an outage is one line, sparse reminders and one line at its end."""

from __future__ import annotations

import logging

import pytest
from ruta_shared.outage_log import OutageLog, RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_reported_once_with_doubling_reminders_and_its_end_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    outage = OutageLog(logging.getLogger("t.outage"), "kafka", first_reminder=10, clock=clock)
    outage.recovered()  # nothing was down: nothing to say
    with caplog.at_level(logging.INFO, logger="t.outage"):
        for second in range(100):  # a failure every second for 100 s
            clock.now = float(second)
            outage.failed(ConnectionError("x"))
        assert outage.down
        outage.recovered()
        outage.recovered()
    messages = [record.getMessage() for record in caplog.records]
    # first at 0 s, reminders at 10 s and 30 s (pause 20 s), 70 s (pause 40 s); the end once
    assert messages == [
        "kafka unreachable",
        "kafka still unreachable",
        "kafka still unreachable",
        "kafka still unreachable",
        "kafka reachable again",
    ]
    assert caplog.records[-1].failures == 100  # type: ignore[attr-defined]
    assert not outage.down


def test_repeat_filter_holds_back_repeats_of_one_template_only() -> None:
    clock = Clock()
    repeat = RepeatFilter(first_pause=60, clock=clock)

    def record(msg: str, level: int = logging.ERROR, name: str = "aiokafka") -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, ("10.0.0.1",), None)

    passed = [repeat.filter(record("Unable connect to %s")) for _ in range(500)]
    assert passed.count(True) == 1
    assert repeat.filter(record("Another error %s"))  # another template passes
    assert repeat.filter(record("Unable connect to %s", level=logging.INFO))  # info untouched
    clock.now = 61
    again = record("Unable connect to %s")
    assert repeat.filter(again)
    assert again.suppressed_repeats == 499  # type: ignore[attr-defined]
    clock.now = 100  # the pause doubled to 120 s
    assert not repeat.filter(record("Unable connect to %s"))
