"""`python -m ruta_analytics.consumer`: kept for deploy/local's stack; the worker is in workers/."""

from __future__ import annotations

from ruta_analytics.workers.consumer import run

if __name__ == "__main__":
    run()
