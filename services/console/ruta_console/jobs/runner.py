"""Running a long action in the background of the process that took it, its lease renewed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ruta_console.errors import SessionEndedError, UnavailableError
from ruta_console.jobs.store import FileRef, JobStore

log = logging.getLogger(__name__)


class Progress:
    """What a job's work reports as it goes: its stage, how many of its steps are done, files."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self._store = store
        self._job_id = job_id

    async def step(self, stage: str, done: int) -> None:
        """Record the stage now running and how many steps are done (the lease is renewed)."""
        await self._store.progress(self._job_id, stage=stage, done=done)

    async def keep(self, ref: FileRef, content: bytes) -> None:
        """Keep a file the job produced, for its owner to download."""
        await self._store.put_file(self._job_id, ref, content)


Work = Callable[[Progress], Awaitable[dict[str, Any] | None]]


class JobFailedError(Exception):
    """A job cannot go on; `message` is the Spanish sentence its owner reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Jobs:
    """Starts jobs as tasks of this process; their state lives in the store, for every replica.

    What a job works on (an uploaded sheet) stays in this process's memory only: if the process
    dies, the lease runs out and the job reads as failed; nothing personal is ever stored.
    """

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(
        self, *, kind: str, owner: str, title: str, total: int, back: str, work: Work
    ) -> str:
        """Record a new job and start its work; returns the job's id at once."""
        job_id = await self.store.create(
            kind=kind, owner=owner, title=title, total=total, back=back
        )
        task = asyncio.create_task(self._run(job_id, work), name=f"console-job-{kind}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))
        return job_id

    async def _run(self, job_id: str, work: Work) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(job_id))
        try:
            result = await work(Progress(self.store, job_id))
        except asyncio.CancelledError:
            await self._fail(job_id, "La consola se detuvo antes de terminar. Vuelva a empezar.")
            raise
        except JobFailedError as exc:
            await self._fail(job_id, exc.message)
        except SessionEndedError:
            await self._fail(job_id, "Su sesión terminó. Vuelva a entrar y empiece otra vez.")
        except UnavailableError as exc:
            await self._fail(
                job_id,
                f"El servicio de {exc.part} no responde en este momento. "
                "Inténtelo de nuevo en unos minutos.",
            )
        except Exception as exc:
            log.error("job failed", extra={"job_id": job_id, "error": type(exc).__name__})
            await self._fail(job_id, "Algo falló en la consola. El error quedó registrado.")
        else:
            await self.store.finish(job_id, result=result)
        finally:
            heartbeat.cancel()

    async def _fail(self, job_id: str, message: str) -> None:
        try:
            await self.store.fail(job_id, error=message)
        except Exception as exc:  # the database is gone: the lease will say it
            log.warning(
                "job state not saved", extra={"job_id": job_id, "error": type(exc).__name__}
            )

    async def _heartbeat(self, job_id: str) -> None:
        """Renew the lease well before it ends, while the work runs."""
        while True:
            await asyncio.sleep(self.store.lease.total_seconds() / 3)
            try:
                await self.store.renew(job_id)
            except Exception as exc:  # a hiccup: the next beat tries again
                log.warning("job lease not renewed", extra={"error": type(exc).__name__})

    async def close(self) -> None:
        """Stop the jobs still running (they are marked failed)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
