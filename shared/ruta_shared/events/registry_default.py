"""The process-wide registry that the catalog modules register into."""

from __future__ import annotations

from ruta_shared.events.registry import EventRegistry

EVENTS = EventRegistry()
