"""Maps (event type, version) to payload models, upcasts old versions and decodes wire bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from ruta_shared.events.envelope import EventData, EventEnvelope

E = TypeVar("E", bound=type[EventData])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventError(Exception):
    """Base class of event decoding and registry errors; `reason` is a short machine code."""

    reason = "invalid_event"


class UndecodableEventError(EventError):
    """The bytes are not a JSON event envelope."""

    reason = "undecodable"


class InvalidEventError(EventError):
    """The envelope or its payload does not validate."""

    reason = "invalid"


class UnknownEventTypeError(EventError):
    """No model is registered for the event's type or version."""

    reason = "unknown_type"


class EventRegistry:
    """Payload models by (type, version), with chained upcasters from each old version."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[EventData]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._latest: dict[str, int] = {}

    def register(self, model: E) -> E:
        """Register a payload model (usable as a class decorator)."""
        key = (model.event_type, model.event_version)
        existing = self._models.get(key)
        if existing is not None and existing is not model:
            msg = f"event {key[0]} v{key[1]} is already registered by {existing.__name__}"
            raise ValueError(msg)
        self._models[key] = model
        self._latest[key[0]] = max(self._latest.get(key[0], 0), key[1])
        return model

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning `from_version` data into `from_version + 1` data."""

        def decorate(func: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = func
            return func

        return decorate

    def types(self) -> list[str]:
        """Every registered event type, sorted."""
        return sorted({event_type for event_type, _ in self._models})

    def models(self) -> list[type[EventData]]:
        """Every registered model, by type then version."""
        return [self._models[key] for key in sorted(self._models)]

    def latest_version(self, event_type: str) -> int:
        """The newest registered version of `event_type`."""
        try:
            return self._latest[event_type]
        except KeyError:
            msg = f"unknown event type {event_type!r}"
            raise UnknownEventTypeError(msg) from None

    def model_for(self, event_type: str, version: int) -> type[EventData]:
        """The payload model of one type and version."""
        try:
            return self._models[(event_type, version)]
        except KeyError:
            msg = f"unknown event type {event_type!r} version {version}"
            raise UnknownEventTypeError(msg) from None

    def upcast(self, envelope: EventEnvelope) -> EventEnvelope:
        """Bring an envelope's data to the latest version of its type through the upcasters."""
        latest = self.latest_version(envelope.type)
        if envelope.version > latest:
            msg = f"event {envelope.type} v{envelope.version} is newer than v{latest} known here"
            raise UnknownEventTypeError(msg)
        data, version = dict(envelope.data), envelope.version
        while version < latest:
            step = self._upcasters.get((envelope.type, version))
            if step is None:
                msg = f"no upcaster for {envelope.type} from v{version}"
                raise UnknownEventTypeError(msg)
            data, version = step(data), version + 1
        if version == envelope.version:
            return envelope
        return envelope.model_copy(update={"data": data, "version": version})

    def validate(self, envelope: EventEnvelope) -> EventEnvelope:
        """Upcast an envelope and validate its payload against the latest model."""
        upcast = self.upcast(envelope)
        payload = self.payload(upcast)
        if upcast is envelope:
            return envelope  # valid as received: no need to re-serialise (hot path)
        return upcast.model_copy(update={"data": payload.model_dump(mode="json")})

    def payload(self, envelope: EventEnvelope) -> EventData:
        """The typed payload of an envelope (at the envelope's version)."""
        model = self.model_for(envelope.type, envelope.version)
        try:
            return model.model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidEventError(_describe(exc, prefix="data.")) from None

    def encode(self, envelope: EventEnvelope) -> bytes:
        """Wire bytes of an envelope (UTF-8 JSON)."""
        return envelope.model_dump_json().encode()

    def decode(self, raw: bytes | None) -> EventEnvelope:
        """Parse wire bytes into a validated envelope at the latest version of its type."""
        if raw is None:
            raise UndecodableEventError("empty message")
        try:
            envelope = EventEnvelope.model_validate_json(raw)
        except ValidationError as exc:
            kinds = {error["type"] for error in exc.errors(include_input=False)}
            if kinds & {"json_invalid", "model_type", "model_attributes_type"}:
                raise UndecodableEventError("not a JSON event object") from None
            raise InvalidEventError(_describe(exc)) from None
        return self.validate(envelope)


def _describe(exc: ValidationError, prefix: str = "") -> str:
    """Name the failing fields without echoing their values (they may be personal data)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        parts.append(f"{prefix}{location}: {error['msg']}")
    return "; ".join(parts)


def encode_json(value: Any) -> bytes:
    """Compact JSON bytes for headers and payloads."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
