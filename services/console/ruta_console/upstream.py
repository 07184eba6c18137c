"""Calls to the four services' HTTP APIs with the user's bearer token, and their answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from ruta_shared.correlation import CORRELATION_HEADER, current_correlation_id

from ruta_console.errors import SessionEndedError, UnavailableError
from ruta_console.rules import field_messages

log = logging.getLogger(__name__)


class Service(StrEnum):
    """The services the console talks to."""

    INTAKE = "intake"
    REFERRALS = "referrals"
    TRAINING = "training"
    ANALYTICS = "analytics"


SERVICE_NAMES = {
    Service.INTAKE: "casos",
    Service.REFERRALS: "derivaciones",
    Service.TRAINING: "capacitación",
    Service.ANALYTICS: "estadísticas",
}


@dataclass(frozen=True)
class Answer:
    """A service's answer: status, JSON body (or None), headers and raw bytes."""

    status: int
    body: Any
    headers: httpx.Headers
    content: bytes

    @property
    def ok(self) -> bool:
        """2xx."""
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        """The service's Spanish sentence for a refusal."""
        if isinstance(self.body, dict) and isinstance(self.body.get("detail"), str):
            return str(self.body["detail"])
        return "La operación no se pudo completar."

    @property
    def errors(self) -> dict[str, str]:
        """Field errors by form field name (the service's field without `body.`/`query.`)."""
        raw = self.body.get("errors") if isinstance(self.body, dict) else None
        return field_messages(raw if isinstance(raw, list) else [])

    @property
    def code(self) -> str | None:
        """The machine code of a refusal without a field (e.g. `consent_required`)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("code"), str):
            return str(self.body["code"])
        return None

    @property
    def version(self) -> int | None:
        """The resource version from the ETag header, when there is one."""
        value = self.headers.get("etag", "").removeprefix("W/").strip('"')
        return int(value) if value.isdigit() else None


class Upstream:
    """One httpx client for the app; every call names the service and carries the token."""

    def __init__(self, client: httpx.AsyncClient, urls: dict[Service, str]) -> None:
        self._client = client
        self._urls = urls

    def url(self, service: Service, path: str) -> str:
        """The absolute URL of a path on a service."""
        return self._urls[service].rstrip("/") + path

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        """Send one request; 401 ends the session, a service that does not answer is 503."""
        sent = {CORRELATION_HEADER: current_correlation_id(), **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self._client.request(
                method, self.url(service, path), headers=sent, timeout=timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            log.warning(
                "upstream unavailable",
                extra={"service": service.value, "error": type(exc).__name__},
            )
            raise UnavailableError(SERVICE_NAMES[service]) from None
        if response.status_code == 401 and token is not None:
            raise SessionEndedError
        # A 503 with Retry-After ("not yet") goes back to `calls.call`, which waits and asks again.
        if response.status_code >= 500 and not (
            response.status_code == 503 and "retry-after" in response.headers
        ):
            log.warning(
                "upstream error", extra={"service": service.value, "status": response.status_code}
            )
            raise UnavailableError(SERVICE_NAMES[service])
        body: Any = None
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                body = response.json()
            except ValueError:
                body = None
        return Answer(response.status_code, body, response.headers, response.content)
