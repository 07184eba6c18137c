"""Dashboard routes: the page (public shell), its login form's target, the figure stream."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from ruta_shared.security.permissions import public
from starlette.responses import HTMLResponse, Response

from ruta_analytics.dashboard import service
from ruta_analytics.deps import DashboardViewer, RuntimeDep

PAGE: Final = Path(__file__).with_name("page.html")

router = APIRouter(tags=["tablero"])


@router.get("/dashboard/stream")
async def stream(
    request: Request, runtime: RuntimeDep, principal: DashboardViewer
) -> StreamingResponse:
    """Server-sent events: `figures` now and after every projected batch; `expired`."""
    return StreamingResponse(
        service.figure_events(
            runtime=runtime, principal=principal, disconnected=request.is_disconnected
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/dashboard",
    include_in_schema=False,
    dependencies=[public("the page shell holds no data; figures come through the stream")],
)
async def page() -> Response:
    """The dashboard page (no data in it: the figures come through the stream)."""
    return HTMLResponse(
        PAGE.read_text(encoding="utf-8"),
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; img-src 'self' data:",
            "X-Frame-Options": "DENY",
        },
    )


@router.post(
    "/dashboard/login",
    include_in_schema=False,
    dependencies=[public("a login form: it forwards to the token endpoint")],
)
async def login(request: Request, runtime: RuntimeDep) -> Response:
    """Forward the login form to Ruta's token issuer and hand back its answer."""
    client_host = request.client.host if request.client else None
    return await service.forward_login(
        runtime=runtime, body=await request.body(), client_host=client_host
    )
