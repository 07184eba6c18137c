"""Structured JSON logs, each line carrying the correlation id in scope."""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from ruta_shared.correlation import peek_correlation_id
from ruta_shared.outage_log import RepeatFilter


class _CorrelationFilter(logging.Filter):
    """Adds the correlation id and service name to every record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = peek_correlation_id()
        record.service = self.service
        return True


def configure_logging(service: str, level: str = "INFO", stream: Any = None) -> None:
    """Send every logger's records as JSON lines to stderr (or `stream`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{correlation_id}{service}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_CorrelationFilter(service))
    # An outage must not flood the logs: the same warning or error passes once, then sparsely.
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "pymongo", "httpx", "httpcore", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv_logger = logging.getLogger(name)
        uv_logger.handlers = []
        uv_logger.propagate = True
    # Access lines would log raw URLs; the metrics middleware records route templates instead.
    logging.getLogger("uvicorn.access").disabled = True
