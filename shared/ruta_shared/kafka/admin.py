"""Creates Ruta's topics to keep every event forever, and refuses existing ones that delete any."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaClient
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from ruta_shared.settings import ServiceSettings
from ruta_shared.topics import DURABLE_TOPICS

log = logging.getLogger(__name__)

# Projections are rebuilt and new consumers start from the beginning of the topics, so a topic
# that drops old messages (by age, by size, or by compacting a key to its last value) silently
# loses history.
DURABLE_CONFIGS: Final = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
_TOPIC_ALREADY_EXISTS: Final = 36
_UNKNOWN_TOPIC: Final = 3
_DESCRIBE_ATTEMPTS: Final = 20


class TopicConfigError(RuntimeError):
    """An existing topic would delete events, or a topic could not be created: refuse to run."""


@dataclass(frozen=True)
class TopicLayout:
    """How new topics are created: partitions and copies."""

    partitions: int
    replication_factor: int
    min_insync_replicas: int

    @classmethod
    def from_settings(
        cls,
        settings: ServiceSettings,
        *,
        partitions: int | None = None,
        replication_factor: int | None = None,
    ) -> TopicLayout:
        """The layout the settings give, with the caller's overrides (tests' small topics)."""
        replicas = replication_factor or settings.kafka_replication_factor
        return cls(
            partitions=partitions or settings.kafka_topic_partitions,
            replication_factor=replicas,
            min_insync_replicas=min(settings.kafka_min_insync_replicas, replicas),
        )

    def new_topic(self, name: str) -> NewTopic:
        """The creation request of one topic: this layout, kept forever, never compacted."""
        configs = {**DURABLE_CONFIGS, "min.insync.replicas": str(self.min_insync_replicas)}
        return NewTopic(
            name,
            num_partitions=self.partitions,
            replication_factor=self.replication_factor,
            topic_configs=configs,
        )


def deletes_events(configs: Mapping[str, str]) -> list[str]:
    """The settings of a topic's effective configuration that make it drop messages."""
    problems = []
    for name in ("retention.ms", "retention.bytes"):
        value = configs.get(name)
        if value is not None and value.strip() != "-1":
            problems.append(f"{name}={value}")
    policy = configs.get("cleanup.policy", "delete")
    if "compact" in policy:
        problems.append(f"cleanup.policy={policy}")
    return problems


def refusal_message(problems: Mapping[str, Sequence[str]]) -> str:
    """Why the process refuses to run, and how an operator makes the topics durable."""
    listed = "; ".join(f"{topic} ({', '.join(found)})" for topic, found in sorted(problems.items()))
    fix = ",".join(f"{name}={value}" for name, value in DURABLE_CONFIGS.items())
    return (
        f"refusing to run: these Kafka topics would delete events: {listed}. Every Ruta topic "
        f"keeps its whole history (rebuilds and new consumers read it from the start). Fix each "
        f"one with: kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics "
        f"--entity-name <topic> --add-config {fix}"
    )


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str] = DURABLE_TOPICS,
    *,
    partitions: int | None = None,
    replication_factor: int | None = None,
    settings: ServiceSettings | None = None,
) -> None:
    """Create whichever of `topics` do not exist yet; refuse if any of them would delete events.

    The layout comes from `settings` (by default the process's own `RUTA_` settings);
    `partitions` and `replication_factor` override it. Raises TopicConfigError.
    """
    layout = TopicLayout.from_settings(
        settings or ServiceSettings(),
        partitions=partitions,
        replication_factor=replication_factor,
    )
    names = list(dict.fromkeys(topics))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            await _create(admin, missing, layout)
        problems = {}
        for name, configs in (await _describe(admin, names)).items():
            found = deletes_events(configs)
            if found:
                problems[name] = found
        if problems:
            message = refusal_message(problems)
            log.error("kafka topics would delete events", extra={"topics": sorted(problems)})
            raise TopicConfigError(message)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, names: list[str], layout: TopicLayout) -> None:
    response = await admin.create_topics([layout.new_topic(name) for name in names])
    failed = {}
    for error in response.topic_errors:
        name, code = error[0], error[1]
        if code not in (0, _TOPIC_ALREADY_EXISTS):  # another process may have been first
            detail = error[2] if len(error) > 2 and error[2] else for_code(code).__name__
            failed[name] = detail
    if failed:
        msg = f"could not create Kafka topics ({layout}): {failed}"
        raise TopicConfigError(msg)


async def _describe(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """Each topic's effective configuration (topic overrides and broker defaults)."""
    pending = list(names)
    found: dict[str, dict[str, str]] = {}
    for _ in range(_DESCRIBE_ATTEMPTS):
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in pending]
        responses: list[Any] = await admin.describe_configs(resources)
        retry = []
        for response in responses:
            for code, message, _type, name, entries in response.resources:
                if code == _UNKNOWN_TOPIC:  # just created: metadata still on its way
                    retry.append(name)
                elif code != 0:
                    msg = f"cannot read the configuration of topic {name}: {message or code}"
                    raise TopicConfigError(msg)
                else:
                    found[name] = {entry[0]: entry[1] for entry in entries}
        if not retry:
            return found
        pending = retry
        await asyncio.sleep(0.25)
    msg = f"topics not visible after creation: {pending}"
    raise TopicConfigError(msg)


async def verify_topics_at_start(settings: ServiceSettings) -> None:
    """At a service's start: create missing topics, refuse to run if one would delete events.

    When Kafka cannot be reached the service starts anyway (it keeps accepting writes into its
    outbox) and the relay runs the same check before it publishes anything.
    """
    if not await kafka_metadata_ok(
        settings.kafka_bootstrap_servers, settings.readiness_timeout_seconds
    ):
        log.warning("kafka unreachable at start; topics are checked when the relay connects")
        return
    await ensure_topics(settings.kafka_bootstrap_servers, settings=settings)


async def kafka_metadata_ok(bootstrap_servers: str, timeout_seconds: float = 2.0) -> bool:
    """True when the cluster answers a metadata request within the timeout."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_seconds * 1000)
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_seconds)
        return bool(client.cluster.brokers())
    except Exception:
        return False
    finally:
        await client.close()
