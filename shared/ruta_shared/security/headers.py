"""Security headers on every response, a CSP without inline scripts on HTML, and /metrics' token.

Every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy:
no-referrer`, a CSP with `frame-ancestors 'none'`, and `Cache-Control: no-store` unless the
route set its own Cache-Control (only static assets should: no route holding personal data
does). HTML pages get a CSP whose scripts come only from the service itself, replacing
whatever the route set; the API documentation pages (FastAPI's Swagger UI and ReDoc) load
their scripts from their CDN and may run only the inline script they were served with
(allowed by its hash). `/metrics` wants `Authorization: Bearer <RUTA_METRICS_TOKEN>` when a
token is set; without one it is open on the local default and closed (503) elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

METRICS_PATH: Final = "/metrics"
DOCS_PATHS: Final = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})

BASE_HEADERS: Final[Mapping[str, str]] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# JSON, events, metrics: nothing in them should load or run anything, nor be framed.
API_CSP: Final = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# Pages: scripts only from this origin (no inline script, no eval). Inline styles stay allowed.
HTML_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_DOCS_CDN: Final = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT: Final = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def base_headers(content_type: str = "application/json") -> dict[str, str]:
    """The headers every response gets (for responses built outside the middleware)."""
    csp = HTML_CSP if content_type.startswith("text/html") else API_CSP
    return {**BASE_HEADERS, "Content-Security-Policy": csp, "Cache-Control": "no-store"}


def docs_csp(body: bytes) -> str:
    """The CSP of an API documentation page: its CDN, plus its own inline scripts by hash."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return (
        f"default-src 'self'; script-src 'self' {_DOCS_CDN} {hashes}; "
        f"style-src 'self' {_DOCS_CDN} https://fonts.googleapis.com 'unsafe-inline'; "
        "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


def _apply(message: Message, path: str, body: bytes | None = None) -> None:
    headers = MutableHeaders(scope=message)
    for name, value in BASE_HEADERS.items():
        headers[name] = value
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
    html = headers.get("content-type", "").startswith("text/html")
    if not html:
        headers["Content-Security-Policy"] = API_CSP
    elif body is not None:
        headers["Content-Security-Policy"] = docs_csp(body)
    else:
        headers["Content-Security-Policy"] = HTML_CSP


class SecurityHeadersMiddleware:
    """ASGI middleware: the headers above on every response, and the /metrics guard."""

    def __init__(self, app: ASGIApp, *, metrics_token: str | None, metrics_open: bool) -> None:
        self.app = app
        self._metrics_token = metrics_token
        self._metrics_open = metrics_open

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == METRICS_PATH:
            refusal = self._metrics_refusal(Headers(scope=scope))
            if refusal is not None:
                await _send_json(send, path, *refusal)
                return
        if path in DOCS_PATHS:
            await self._buffered(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _apply(message, path)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _metrics_refusal(self, headers: Headers) -> tuple[int, str, dict[str, str]] | None:
        if self._metrics_token is None:
            if self._metrics_open:
                return None
            log.warning("metrics refused", extra={"reason": "no_metrics_token_configured"})
            return 503, "Las métricas están cerradas: falta configurar RUTA_METRICS_TOKEN.", {}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self._metrics_token.encode()
        ):
            return None
        challenge = {"WWW-Authenticate": 'Bearer realm="ruta-metrics"'}
        return 401, "Las métricas piden el token de métricas (Authorization: Bearer).", challenge

    async def _buffered(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Documentation pages are small and fixed: read them whole to hash their scripts."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            _apply(start, scope["path"], body)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, collect)


async def _send_json(
    send: Send, path: str, status: int, detail: str, extra: Mapping[str, str]
) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in extra.items()),
        ],
    }
    _apply(start, path)
    await send(start)
    await send({"type": "http.response.body", "body": body})
