"""The headers of a dead-lettered message: why it failed and where it came from (one writer)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

Header = tuple[str, bytes]

REASON: Final = "dlq-reason"
DETAIL: Final = "dlq-detail"
ORIGINAL_TOPIC: Final = "dlq-original-topic"
ORIGINAL_PARTITION: Final = "dlq-original-partition"
ORIGINAL_OFFSET: Final = "dlq-original-offset"
CONSUMER_GROUP: Final = "dlq-consumer-group"
FAILED_AT: Final = "dlq-failed-at"
DLQ_HEADERS: Final = frozenset(
    {REASON, DETAIL, ORIGINAL_TOPIC, ORIGINAL_PARTITION, ORIGINAL_OFFSET, CONSUMER_GROUP, FAILED_AT}
)
# Details are exception class names or validation summaries, never payload values.
DETAIL_LIMIT: Final = 500


def dead_letter_headers(
    *,
    topic: str,
    partition: int,
    offset: int,
    reason: str,
    detail: str,
    group: str,
    original: Iterable[Header] = (),
) -> list[Header]:
    """The message's own headers (minus any earlier dead-letter ones) plus why and whence."""
    kept = [(name, value) for name, value in original if name not in DLQ_HEADERS]
    return [
        *kept,
        (REASON, reason.encode()),
        (DETAIL, detail[:DETAIL_LIMIT].encode()),
        (ORIGINAL_TOPIC, topic.encode()),
        (ORIGINAL_PARTITION, str(partition).encode()),
        (ORIGINAL_OFFSET, str(offset).encode()),
        (CONSUMER_GROUP, group.encode()),
        (FAILED_AT, datetime.now(UTC).isoformat().encode()),
    ]
