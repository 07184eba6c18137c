"""Kafka topic names, in one place: one topic per owning service, its dead-letter topic, audit."""

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

# Partitions of topics created without settings (tests); services take theirs from settings.
PARTITIONS: Final = 6

# The analytics service's signed audit checkpoints (chain heads sealed into a Merkle root).
AUDIT_CHECKPOINTS: Final = "ruta.analytics.checkpoints"


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

# Which dead-lettered messages `ruta-dlq replay` sent back to their topic (one record each).
DLQ_REPLAYS: Final = "ruta.dlq.replays"

# Every topic that holds the platform's history: kept forever, never compacted.
DURABLE_TOPICS: Final[tuple[str, ...]] = (
    *EVENT_TOPICS,
    *DEAD_LETTER_TOPICS,
    AUDIT_CHECKPOINTS,
    DLQ_REPLAYS,
)
