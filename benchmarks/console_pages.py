"""Benchmark: the console's page weight (compressed bytes) and time to interactive, per page.

Runs against a running local stack (`./scripts/run`; the console on http://127.0.0.1:8005).
Creates a coordinator in the stack's auth database (or uses --username with the password
on stdin), logs in through the console's form in Debian's headless Chromium, opens one case
through the "Nuevo caso" form so every page has something to show, then loads each page
--repeat times and reads the browser's Navigation and Resource Timing:
- weight: bytes transferred for the page and everything it loaded (compressed, as sent);
- interactive: navigation start to `domInteractive` (the page can be used), and to the end
  of the load event.
Prints one line per page: weight of the first (cold) load, p50/p95 interactive and load
times; targets: first page under 300 KB, every page interactive within 1 s.

    uv run python benchmarks/console_pages.py [--console http://127.0.0.1:8005]
        [--mongo-url mongodb://127.0.0.1:27017/] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import statistics
import sys
from typing import Any

from playwright.async_api import Page, async_playwright
from pymongo import AsyncMongoClient
from ruta_shared.security.principal import Role
from ruta_shared.security.users import UserStore

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMING = """() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const resources = performance.getEntriesByType("resource");
    const bytes = nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0);
    return {bytes, interactive: nav.domInteractive, load: nav.loadEventEnd};
}"""
FIRST_PAGE_BUDGET = 300 * 1024
INTERACTIVE_BUDGET_MS = 1000.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--console", default="http://127.0.0.1:8005")
    parser.add_argument("--mongo-url", default="mongodb://127.0.0.1:27017/")
    parser.add_argument("--auth-database", default="ruta_auth")
    parser.add_argument("--username", help="an existing coordinator (password on stdin)")
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args(argv)


async def coordinator(args: argparse.Namespace) -> tuple[str, str]:
    """The user to log in as: the one given, or a new coordinator."""
    if args.username:
        return args.username, sys.stdin.readline().strip()
    username = f"bench-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(args.mongo_url, tz_aware=True)
    try:
        await UserStore(client[args.auth_database]).create(
            username=username, password=password, role=Role.COORDINATOR, offices=["lima"]
        )
    finally:
        await client.close()
    return username, password


async def measure(page: Page, url: str) -> dict[str, float]:
    """Load a page and read its timing."""
    await page.goto(url, wait_until="load")
    timing: dict[str, float] = await page.evaluate(TIMING)
    return timing


async def open_case(page: Page, base: str) -> str:
    """One case through the form; returns its path."""
    await page.goto(base + "/casos/nuevo")
    await page.select_option("#f-office", "lima")
    await page.select_option("#f-arrival_channel", "hotline")
    await page.check("input[name=crime_types][value=trafficking]")
    await page.select_option("#f-victims-0-sex", "female")
    await page.fill("#f-victims-0-age_at_intake", "30")
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/casos/[A-Za-z0-9_-]+$"))
    return page.url.removeprefix(base)


async def prepare_report(page: Page, base: str) -> str:
    """This year's annual report prepared as a job; returns the job page's path (once done)."""
    await page.goto(base + "/informes")
    await page.locator("button[id^=prepare-]").first.click()
    await page.wait_for_url(re.compile(r"/tareas/[A-Za-z0-9_-]+$"))
    await page.locator("#job-state", has_text="Terminado.").wait_for(timeout=120_000)
    return page.url.removeprefix(base)


def p(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def main(args: argparse.Namespace) -> int:
    """Log in, make a case, measure every page."""
    username, password = await coordinator(args)
    base = args.console.rstrip("/")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(locale="es-PE", timezone_id="America/Lima")
        page = await context.new_page()
        first = await measure(page, base + "/entrar")  # cold: nothing cached yet
        await page.fill("#username", username)
        await page.fill("#password", password)
        await page.click("button[type=submit]")
        await page.wait_for_load_state()
        case_path = await open_case(page, base)
        await page.click("#victims a")
        victim_path = page.url.removeprefix(base)
        job_path = await prepare_report(page, base)
        pages = {
            "login": "/entrar",
            "cases": "/casos",
            "new case": "/casos/nuevo",
            "case": case_path,
            "victim": victim_path,
            "figures": "/cifras",
            "report": "/informes",
            "report job": job_path,
            "training": "/capacitacion",
            "audit": "/auditoria",
            "duplicates": "/duplicados",
            "password": "/contrasena",
        }
        header = ("page", "first KB", "p50 int ms", "p95 int ms", "p95 load ms")
        print("{:<11} {:>9} {:>11} {:>11} {:>12}".format(*header))
        worst = 0.0
        for name, path in pages.items():
            if name == "login":
                # Logged in, /entrar redirects: measure it in a fresh context instead.
                fresh = await (await browser.new_context()).new_page()
                runs = [await measure(fresh, base + path) for _ in range(args.repeat)]
                cold = first
            else:
                cold_context = await browser.new_context()
                await cold_context.add_cookies(await context.cookies())
                cold = await measure(await cold_context.new_page(), base + path)
                await cold_context.close()
                runs = [await measure(page, base + path) for _ in range(args.repeat)]
            interactive = [r["interactive"] for r in runs]
            load = [r["load"] for r in runs]
            worst = max(worst, p(interactive, 0.95))
            print(
                f"{name:<11} {cold['bytes'] / 1024:>9.1f} {statistics.median(interactive):>11.1f} "
                f"{p(interactive, 0.95):>11.1f} {p(load, 0.95):>12.1f}"
            )
        await browser.close()
    ok_weight = first["bytes"] <= FIRST_PAGE_BUDGET
    ok_time = worst < INTERACTIVE_BUDGET_MS
    weight = f"{first['bytes'] / 1024:.1f} KB"
    print(f"first page {weight} (target < 300 KB): {'ok' if ok_weight else 'OVER'}")
    print(f"worst p95 interactive {worst:.1f} ms (target < 1000 ms): {'ok' if ok_time else 'OVER'}")
    return 0 if ok_weight and ok_time else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
