"""Keeps Ruta's log setup in the faust worker, whose start replaces the root log handlers."""

from __future__ import annotations

import sys
from typing import Any

from ruta_shared.logging import configure_logging

from ruta_analytics.settings import AnalyticsSettings


def keep_ruta_logging(app: Any, settings: AnalyticsSettings) -> None:
    """Put Ruta's JSON handler (and its filter of repeated lines) back once the worker runs.

    mode (faust's service layer) clears the root handlers and installs its own at worker
    start, after `run()` configured logging: without this, aiokafka's per-attempt errors
    during a Kafka outage reached the log unfiltered (about 7,000 lines in 76 s).
    """

    @app.task  # type: ignore[untyped-decorator]
    async def restore_logging() -> None:
        # The process's own stderr: the worker has replaced sys.stderr with a logging proxy.
        configure_logging("analytics-consumer", settings.log_level, stream=sys.__stderr__)
