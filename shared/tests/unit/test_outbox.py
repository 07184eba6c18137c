"""Unit tests of the outbox's pure helpers."""

from __future__ import annotations

import pytest
from ruta_shared.outbox import merge_updates
from ruta_shared.topics import EVENT_TOPICS, dead_letter_topic, topic_for_source


def test_merge_updates_combines_operators() -> None:
    merged = merge_updates({"$set": {"a": 1}}, {"$set": {"b": 2}, "$push": {"c": 3}})
    assert merged == {"$set": {"a": 1, "b": 2}, "$push": {"c": 3}}


def test_merge_updates_refuses_a_field_set_twice() -> None:
    with pytest.raises(ValueError, match="'a' appears twice"):
        merge_updates({"$set": {"a": 1}}, {"$set": {"a": 2}})


def test_topics_per_service_and_dead_letters() -> None:
    assert topic_for_source("intake") == "ruta.intake.events"
    assert dead_letter_topic("ruta.intake.events") == "ruta.intake.events.dlq"
    assert len(set(EVENT_TOPICS)) == 4
    with pytest.raises(ValueError, match="no topic"):
        topic_for_source("nobody")
