"""Calling a service as the logged-in user (the token never leaves the server)."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from ruta_console.auth.models import Session
from ruta_console.errors import RefusedError, UnavailableError
from ruta_console.runtime import Runtime
from ruta_console.upstream import SERVICE_NAMES, Answer, Service

# A service that says "not yet" (Retry-After) is asked again, a few times, within this budget.
RETRY_BUDGET_SECONDS: Final = 3.0
RETRY_STATUSES: Final = frozenset({409, 425, 429, 503})


async def call(
    *, runtime: Runtime, session: Session, service: Service, method: str, path: str, **kwargs: Any
) -> Answer:
    """One request with the session's token; honours a short Retry-After."""
    waited = 0.0
    while True:
        answer = await runtime.upstream.call(service, method, path, token=session.token, **kwargs)
        retry_after = answer.headers.get("retry-after", "")
        if answer.status not in RETRY_STATUSES or not retry_after.replace(".", "", 1).isdigit():
            return _answered(service, answer)
        delay = float(retry_after)
        if waited + delay > RETRY_BUDGET_SECONDS:
            return _answered(service, answer)
        await asyncio.sleep(delay)
        waited += delay


def _answered(service: Service, answer: Answer) -> Answer:
    """The answer, unless the service is still unavailable after the waits: the 503 page."""
    if answer.status >= 500:
        raise UnavailableError(SERVICE_NAMES[service])
    return answer


async def fetch(
    *, runtime: Runtime, session: Session, service: Service, path: str, **kwargs: Any
) -> Any:
    """GET a resource's JSON; a refusal (404 included) becomes the console's error page."""
    answer = await call(
        runtime=runtime, session=session, service=service, method="GET", path=path, **kwargs
    )
    if not answer.ok:
        raise RefusedError(answer)
    return answer.body
