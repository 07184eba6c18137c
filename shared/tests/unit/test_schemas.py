"""The committed JSON Schemas and AsyncAPI document match the event models."""

from __future__ import annotations

import json

from ruta_shared.events import EVENTS
from ruta_shared.events.schemas import ASYNCAPI_PATH, EVENTS_DIR, render, stale_files


def test_committed_schema_files_are_up_to_date() -> None:
    stale = stale_files()
    assert stale == [], (
        "regenerate with `uv run python -m ruta_shared.events.schemas write`: " + ", ".join(stale)
    )


def test_every_registered_type_and_version_has_a_schema() -> None:
    files = render()
    for model in EVENTS.models():
        path = EVENTS_DIR / model.event_type / f"v{model.event_version}.json"
        schema = json.loads(files[path])
        assert schema["properties"]["type"] == {"const": model.event_type, "title": "Type"}
        assert schema["properties"]["data"]["title"] == model.__name__
    assert ASYNCAPI_PATH in files


def test_asyncapi_document_lists_every_message() -> None:
    text = render()[ASYNCAPI_PATH]
    assert text.startswith("asyncapi: 3.0.0")
    for model in EVENTS.models():
        assert f"{model.event_type.replace('.', '_')}_v{model.event_version}:" in text
