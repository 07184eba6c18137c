"""The dashboard page's shell: a CSP without inline scripts, its code as a static file."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.integration


async def test_the_page_has_no_inline_script_and_its_code_is_served_by_analytics(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    page = await client.get("/dashboard")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert "<script>" not in page.text
    assert '<script src="/dashboard/page.js"></script>' in page.text
    script = await client.get("/dashboard/page.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "TOKEN_KEY" in script.text
