"""Schemathesis over a served app: every operation, a real token and real ids, responses checked."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

Headers = dict[str, str]
CHECKS = (not_a_server_error, response_schema_conformance)
_CREDENTIALS = frozenset({"authorization", "x-api-key"})


class LiveServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread of its own (lifespan on)."""

    def __init__(self, app: Any, port: int, *, lifespan: Literal["on", "off"] = "on") -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, lifespan=lifespan
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve()), daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                msg = "uvicorn did not start"
                raise RuntimeError(msg)
            self._thread.join(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self._thread.join(30)


@dataclass
class FuzzReport:
    """What a run sent and got, and every distinct check failure, by operation."""

    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # operation -> "<status> <check title>" -> the first failure's message
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    failing_cases: int = 0

    @property
    def violations(self) -> int:
        """Distinct failures: one per operation, status and check."""
        return sum(len(found) for found in self.failures.values())

    def record(self, label: str, status: int, failures: Sequence[Failure]) -> None:
        """Keep one line per distinct failure of the operation."""
        self.failing_cases += 1
        found = self.failures.setdefault(label, {})
        for failure in failures:
            first_line = failure.message.strip().splitlines()[0] if failure.message else ""
            found.setdefault(f"{status} {failure.title}", first_line[:300])

    def describe(self) -> str:
        """A readable list of the failures, for the assertion message."""
        lines = [
            f"{self.violations} violations in {self.failing_cases} of {self.calls} calls; "
            f"statuses {dict(sorted(self.statuses.items()))}"
        ]
        for label, found in sorted(self.failures.items()):
            lines += [f"{label}:", *(f"  {key}: {found[key]}" for key in sorted(found))]
        return "\n".join(lines)


HeadersFor = Callable[[Any], Headers]


def fuzz(
    base_url: str,
    *,
    headers: HeadersFor,
    path_values: Mapping[str, Sequence[str]] | None = None,
    examples: int = 12,
    skip: Callable[[Any], bool] = lambda _: False,
) -> FuzzReport:
    """Send generated requests to every operation of the served document; check each answer.

    `headers(operation)` authenticates a call; `path_values` holds ids of existing resources,
    used for about half the requests so that they reach past the 404s. Valid and invalid data
    are both generated. Returns every distinct failure instead of stopping at the first one.
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    report = FuzzReport()
    known = path_values or {}
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()
        operation = result.ok()
        if not skip(operation):
            _fuzz_operation(
                operation,
                base_url,
                auth=headers(operation),
                known=known,
                examples=examples,
                report=report,
            )
    return report


def _fuzz_operation(
    operation: Any,
    base_url: str,
    *,
    auth: Headers,
    known: Mapping[str, Sequence[str]],
    examples: int,
    report: FuzzReport,
) -> None:
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases, data=st.data())
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, data: st.DataObject) -> None:
        parameters = case.path_parameters or {}
        if data.draw(st.booleans(), label="real ids"):
            for name in parameters:
                if known.get(name):
                    parameters[name] = data.draw(st.sampled_from(list(known[name])), label=name)
        if case.headers:
            # Credentials generated from the security schemes would override the real ones.
            case.headers = {k: v for k, v in case.headers.items() if k.lower() not in _CREDENTIALS}
        response = case.call(base_url=base_url, headers=auth, timeout=20)
        report.calls += 1
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=list(CHECKS))
        except FailureGroup as group:
            report.record(operation.label, response.status_code, group.exceptions)
        except Failure as failure:
            report.record(operation.label, response.status_code, [failure])

    run()
