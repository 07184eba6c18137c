"""Topic layout settings by environment, and which topic configurations delete events."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from ruta_shared.kafka.admin import TopicLayout, deletes_events, refusal_message
from ruta_shared.settings import ServiceSettings

DURABLE = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}


def layout(settings: ServiceSettings) -> tuple[int, int, int]:
    return (
        settings.kafka_topic_partitions,
        settings.kafka_replication_factor,
        settings.kafka_min_insync_replicas,
    )


@pytest.mark.parametrize(
    ("environment", "expected"),
    [("production", (12, 3, 2)), ("local", (6, 1, 1)), ("test", (6, 1, 1))],
)
def test_the_layout_defaults_follow_the_environment(
    environment: str, expected: tuple[int, int, int]
) -> None:
    assert layout(ServiceSettings(environment=environment)) == expected  # type: ignore[arg-type]


def test_given_layout_settings_win_over_the_environment_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUTA_ENVIRONMENT", "production")
    monkeypatch.setenv("RUTA_KAFKA_TOPIC_PARTITIONS", "24")

    assert layout(ServiceSettings()) == (24, 3, 2)
    assert layout(ServiceSettings(kafka_replication_factor=1, kafka_min_insync_replicas=1)) == (
        24,
        1,
        1,
    )


def test_more_in_sync_copies_than_copies_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_min_insync_replicas"):
        ServiceSettings(environment="test", kafka_replication_factor=2, kafka_min_insync_replicas=3)


def test_new_topics_carry_the_durable_configs_and_min_insync_replicas() -> None:
    topic = TopicLayout.from_settings(ServiceSettings(environment="production")).new_topic("t")

    assert (topic.num_partitions, topic.replication_factor) == (12, 3)
    assert topic.topic_configs == {**DURABLE, "min.insync.replicas": "2"}


def test_an_override_of_the_copies_caps_min_insync_replicas() -> None:
    production = ServiceSettings(environment="production")

    assert TopicLayout.from_settings(production, partitions=1, replication_factor=1) == (
        TopicLayout(partitions=1, replication_factor=1, min_insync_replicas=1)
    )


@pytest.mark.parametrize(
    ("changed", "problem"),
    [
        ({"retention.ms": "604800000"}, "retention.ms=604800000"),
        ({"retention.bytes": "1073741824"}, "retention.bytes=1073741824"),
        ({"cleanup.policy": "compact"}, "cleanup.policy=compact"),
        ({"cleanup.policy": "compact,delete"}, "cleanup.policy=compact,delete"),
    ],
)
def test_finite_retention_or_compaction_deletes_events(
    changed: dict[str, str], problem: str
) -> None:
    assert deletes_events({**DURABLE, **changed}) == [problem]


def test_infinite_retention_without_compaction_keeps_events() -> None:
    assert deletes_events(DURABLE) == []
    assert deletes_events({**DURABLE, "min.insync.replicas": "2", "segment.ms": "3600000"}) == []


def test_the_refusal_names_each_topic_its_settings_and_the_fix() -> None:
    message = refusal_message(
        {"ruta.intake.events": ["retention.ms=604800000"], "ruta.a.dlq": ["cleanup.policy=compact"]}
    )

    assert message.startswith("refusing to run: these Kafka topics would delete events: ")
    assert "ruta.a.dlq (cleanup.policy=compact); ruta.intake.events (retention.ms=604800000)" in (
        message
    )
    assert "--add-config retention.ms=-1,retention.bytes=-1,cleanup.policy=delete" in message
