"""Kafka topic names, in one place: one topic per owning service, plus a dead-letter topic each."""

from __future__ import annotations

from typing import Final

TOPIC_PREFIX: Final = "ruta"
DEAD_LETTER_SUFFIX: Final = ".dlq"

INTAKE_EVENTS: Final = "ruta.intake.events"
REFERRALS_EVENTS: Final = "ruta.referrals.events"
TRAINING_EVENTS: Final = "ruta.training.events"
ANALYTICS_EVENTS: Final = "ruta.analytics.events"

TOPIC_BY_SOURCE: Final[dict[str, str]] = {
    "intake": INTAKE_EVENTS,
    "referrals": REFERRALS_EVENTS,
    "training": TRAINING_EVENTS,
    "analytics": ANALYTICS_EVENTS,
}

EVENT_TOPICS: Final[tuple[str, ...]] = tuple(TOPIC_BY_SOURCE.values())

PARTITIONS: Final = 6


def topic_for_source(source: str) -> str:
    """The topic a service publishes to."""
    try:
        return TOPIC_BY_SOURCE[source]
    except KeyError:
        msg = f"no topic for source {source!r}"
        raise ValueError(msg) from None


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return topic + DEAD_LETTER_SUFFIX


DEAD_LETTER_TOPICS: Final[tuple[str, ...]] = tuple(dead_letter_topic(t) for t in EVENT_TOPICS)
