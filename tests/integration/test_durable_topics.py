"""Topics on the real broker keep every event: created durable, and deleting ones refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from ruta_shared.kafka.admin import DURABLE_CONFIGS, TopicConfigError, ensure_topics
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_shared.topics import DURABLE_TOPICS, TRAINING_EVENTS, dead_letter_topic

pytestmark = pytest.mark.integration

SEVEN_DAYS_MS = str(7 * 24 * 3600 * 1000)


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


async def configs_of(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    responses: list[Any] = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic)]
    )
    (_code, _message, _type, _name, entries) = responses[0].resources[0]
    return {entry[0]: entry[1] for entry in entries}


async def layout_of(admin: AIOKafkaAdminClient, topic: str) -> tuple[int, set[int]]:
    """Partition count and the replica counts of its partitions."""
    (described,) = await admin.describe_topics([topic])
    partitions = described["partitions"]
    return len(partitions), {len(partition["replicas"]) for partition in partitions}


def session_settings(**overrides: Any) -> ServiceSettings:
    return ServiceSettings(environment="test", **overrides)


async def test_topics_are_created_with_infinite_retention_and_the_settings_layout(
    admin: AIOKafkaAdminClient, kafka_bootstrap: str, unique: str
) -> None:
    events, dead_letters = f"test.durable.{unique}", dead_letter_topic(f"test.durable.{unique}")
    settings = session_settings(kafka_topic_partitions=4)

    await ensure_topics(kafka_bootstrap, [events, dead_letters], settings=settings)

    for topic in (events, dead_letters):
        configs = await configs_of(admin, topic)
        assert {name: configs[name] for name in DURABLE_CONFIGS} == {
            "retention.ms": "-1",
            "retention.bytes": "-1",
            "cleanup.policy": "delete",
        }
        assert configs["min.insync.replicas"] == "1"
        assert await layout_of(admin, topic) == (4, {1})


async def test_the_platform_topics_and_the_checkpoint_topic_are_all_durable(
    admin: AIOKafkaAdminClient, kafka_bootstrap: str
) -> None:
    await ensure_topics(kafka_bootstrap, settings=session_settings())

    assert "ruta.analytics.checkpoints" in DURABLE_TOPICS
    for topic in DURABLE_TOPICS:
        configs = await configs_of(admin, topic)
        assert configs["retention.ms"] == "-1", topic
        assert configs["retention.bytes"] == "-1", topic
        assert configs["cleanup.policy"] == "delete", topic


@pytest.mark.parametrize(
    ("config", "shown"),
    [
        ({"retention.ms": SEVEN_DAYS_MS}, f"retention.ms={SEVEN_DAYS_MS}"),
        ({"retention.bytes": "1073741824"}, "retention.bytes=1073741824"),
        ({"cleanup.policy": "compact"}, "cleanup.policy=compact"),
    ],
)
async def test_an_existing_topic_that_deletes_events_is_refused(
    admin: AIOKafkaAdminClient,
    kafka_bootstrap: str,
    unique: str,
    config: dict[str, str],
    shown: str,
) -> None:
    topic = f"test.deleting.{unique}"
    await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=config)])

    with pytest.raises(TopicConfigError) as refused:
        await ensure_topics(kafka_bootstrap, [topic], settings=session_settings())

    message = str(refused.value)
    assert message.startswith("refusing to run")
    assert f"{topic} ({shown})" in message
    assert "retention.ms=-1,retention.bytes=-1,cleanup.policy=delete" in message
    assert (await configs_of(admin, topic))[next(iter(config))] == next(iter(config.values()))


async def test_a_layout_the_cluster_cannot_hold_is_a_clear_error(
    kafka_bootstrap: str, unique: str
) -> None:
    production = ServiceSettings(environment="production")  # three copies; one broker here

    with pytest.raises(TopicConfigError, match="could not create Kafka topics"):
        await ensure_topics(kafka_bootstrap, [f"test.three.{unique}"], settings=production)


async def test_a_service_refuses_to_start_when_a_platform_topic_keeps_seven_days(
    admin: AIOKafkaAdminClient, kafka_bootstrap: str, mongo_url: str, tmp_path: Path
) -> None:
    settings = session_settings(
        kafka_bootstrap_servers=kafka_bootstrap, mongo_url=mongo_url, mongo_database="test_refuse"
    )
    await ensure_topics(kafka_bootstrap, settings=settings)
    topic = dead_letter_topic(TRAINING_EVENTS)
    durable = {**DURABLE_CONFIGS, "min.insync.replicas": "1"}
    app = create_service_app(
        settings,
        title="refuses",
        description="a service on a broker that deletes events",
        security=SecuritySettings(environment="test", key_dir=tmp_path / "keys"),
        encrypts_fields=False,
    )
    seven_days = {**durable, "retention.ms": SEVEN_DAYS_MS}
    await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, seven_days)])
    try:
        with pytest.raises(TopicConfigError, match=f"{topic} \\(retention.ms={SEVEN_DAYS_MS}\\)"):
            async with app.router.lifespan_context(app):
                pytest.fail("the service started")
    finally:
        # The session's other tests share this broker's platform topics.
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, durable)])
    assert (await configs_of(admin, topic))["retention.ms"] == "-1"
