"""Generates the committed JSON Schema of every event type and version, and the AsyncAPI document.

`python -m ruta_shared.events.schemas write` rewrites them; `check` exits 1 when any file
is stale (the test suite runs the same check).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from ruta_shared.events import EVENTS, EventEnvelope, EventRegistry
from ruta_shared.topics import TOPIC_BY_SOURCE, dead_letter_topic

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
EVENTS_DIR = SCHEMA_DIR / "events"
ASYNCAPI_PATH = SCHEMA_DIR / "asyncapi.yaml"
SCHEMA_BASE = "https://ruta.example/schemas/events"


def event_schema(model: type[Any]) -> dict[str, Any]:
    """The JSON Schema of one event: the envelope with `data` replaced by the payload's schema."""
    envelope = EventEnvelope.model_json_schema()
    payload = model.model_json_schema()
    defs = {**envelope.pop("$defs", {}), **payload.pop("$defs", {})}
    envelope["properties"]["type"] = {"const": model.event_type, "title": "Type"}
    envelope["properties"]["version"] = {"const": model.event_version, "title": "Version"}
    envelope["properties"]["source"] = {"const": model.source, "title": "Source"}
    envelope["properties"]["data"] = payload
    envelope["title"] = f"{model.event_type} v{model.event_version}"
    envelope["description"] = (model.__doc__ or "").strip()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{model.event_type}/v{model.event_version}.json",
        **envelope,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def asyncapi_document(registry: EventRegistry) -> dict[str, Any]:
    """An AsyncAPI 3.0 document describing every topic and the messages on it."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for source, topic in TOPIC_BY_SOURCE.items():
        channel_messages = {}
        for model in registry.models():
            if model.source != source:
                continue
            name = f"{model.event_type.replace('.', '_')}_v{model.event_version}"
            messages[name] = {
                "name": model.event_type,
                "title": f"{model.event_type} v{model.event_version}",
                "summary": (model.__doc__ or "").strip().splitlines()[0],
                "contentType": "application/json",
                "headers": {
                    "type": "object",
                    "properties": {
                        h: {"type": "string"}
                        for h in ("event-type", "event-version", "event-source", "correlation-id")
                    },
                },
                "payload": {
                    "schemaFormat": "application/schema+json;version=draft-2020-12",
                    "schema": {"$ref": f"./events/{model.event_type}/v{model.event_version}.json"},
                },
                "bindings": {"kafka": {"key": {"type": "string", "description": "subject"}}},
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channel_id = topic.replace(".", "_")
        channels[channel_id] = {
            "address": topic,
            "description": f"Events published by the {source} service, keyed by subject.",
            "messages": channel_messages,
        }
        channels[channel_id + "_dlq"] = {
            "address": dead_letter_topic(topic),
            "description": f"Messages from {topic} that a consumer could not read or handle; "
            "headers dlq-reason, dlq-detail and dlq-original-* say why and where from.",
            "messages": {},
        }
        operations[f"publish_{source}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"The {source} service's outbox relay publishes its events.",
            "messages": [
                {"$ref": f"#/channels/{channel_id}/messages/{n}"} for n in channel_messages
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Ruta events",
            "version": "1.0.0",
            "description": "Domain events of Ruta's services. No personal data travels in "
            "events: only pseudonymous ids and non-identifying attributes.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The local stack's broker (ruta-local up).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render(registry: EventRegistry = EVENTS) -> dict[Path, str]:
    """Every generated file and its content."""
    files = {
        EVENTS_DIR / model.event_type / f"v{model.event_version}.json": json.dumps(
            event_schema(model), indent=2, ensure_ascii=False, sort_keys=False
        )
        + "\n"
        for model in registry.models()
    }
    files[ASYNCAPI_PATH] = yaml.safe_dump(
        asyncapi_document(registry), sort_keys=False, allow_unicode=True, width=100
    )
    return files


def stale_files(registry: EventRegistry = EVENTS) -> list[str]:
    """Generated files that are missing, different, or no longer generated."""
    files = render(registry)
    stale = [str(p) for p, text in files.items() if not p.exists() or p.read_text() != text]
    if EVENTS_DIR.exists():
        stale += [str(p) for p in EVENTS_DIR.rglob("*.json") if p not in files]
    return sorted(stale)


def write(registry: EventRegistry = EVENTS) -> None:
    """Rewrite every generated file and delete ones no longer generated."""
    files = render(registry)
    if EVENTS_DIR.exists():
        for path in EVENTS_DIR.rglob("*.json"):
            if path not in files:
                path.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def main() -> int:
    """CLI: `write` or `check`."""
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "write":
        write()
        return 0
    stale = stale_files()
    for path in stale:
        print(f"stale: {path}", file=sys.stderr)  # noqa: T201
    if stale:
        print("run: uv run python -m ruta_shared.events.schemas write", file=sys.stderr)  # noqa: T201
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
