"""Event envelope, payload models and the registry; importing this loads the whole catalog."""

from ruta_shared.events import catalog as _catalog  # noqa: F401
from ruta_shared.events.catalog import intake as _intake  # noqa: F401
from ruta_shared.events.catalog import referrals as _referrals  # noqa: F401
from ruta_shared.events.catalog import security as _security  # noqa: F401
from ruta_shared.events.catalog import training as _training  # noqa: F401
from ruta_shared.events.envelope import SYSTEM_ACTOR, Actor, EventData, EventEnvelope, new_event
from ruta_shared.events.registry import (
    EventError,
    EventRegistry,
    InvalidEventError,
    UndecodableEventError,
    UnknownEventTypeError,
)
from ruta_shared.events.registry_default import EVENTS

__all__ = [
    "EVENTS",
    "SYSTEM_ACTOR",
    "Actor",
    "EventData",
    "EventEnvelope",
    "EventError",
    "EventRegistry",
    "InvalidEventError",
    "UndecodableEventError",
    "UnknownEventTypeError",
    "new_event",
]
