"""Long actions' state in the console's database, by `_id`: any replica shows any job."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bson import Binary
from pymongo.asynchronous.collection import AsyncCollection

Doc = dict[str, Any]
RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"
# What a job whose process stopped renewing its lease says (a crash, a restart).
INTERRUPTED: Final = (
    "La tarea se interrumpió porque la consola se reinició o dejó de responder. "
    "Vuelva a empezarla; lo que ya se registró no se repite."
)
# Expired jobs and files are deleted in one pass at most this often per process.
PURGE_EVERY: Final = timedelta(minutes=10)


@dataclass(frozen=True)
class FileRef:
    """A file a job produced: its name in the job, the download's file name, type and label."""

    name: str
    filename: str
    media_type: str
    label: str


@dataclass(frozen=True)
class Job:
    """A job as its owner sees it; a running job past its lease reads as failed."""

    id: str
    kind: str
    title: str
    state: str
    stage: str
    done: int
    total: int
    back: str
    result: Doc | None = None
    error: str | None = None
    files: list[FileRef] = field(default_factory=list)

    @property
    def running(self) -> bool:
        """Still in progress."""
        return self.state == RUNNING


class JobStore:
    """Jobs by a random id (nothing personal in their URLs), and the files they produced."""

    def __init__(
        self,
        jobs: AsyncCollection[Doc],
        files: AsyncCollection[Doc],
        *,
        lease_seconds: float,
        keep_minutes: int,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self.lease = timedelta(seconds=lease_seconds)
        self._keep = timedelta(minutes=keep_minutes)
        self._purged = datetime.min.replace(tzinfo=UTC)

    async def create(self, *, kind: str, owner: str, title: str, total: int, back: str) -> str:
        """A new running job of `owner` (a user id); returns its id."""
        await self._purge()
        now = datetime.now(UTC)
        job_id = secrets.token_urlsafe(18)
        await self._jobs.insert_one(
            {
                "_id": job_id,
                "kind": kind,
                "owner": owner,
                "title": title,
                "state": RUNNING,
                "stage": "En cola",
                "done": 0,
                "total": total,
                "back": back,
                "result": None,
                "error": None,
                "files": [],
                "created_at": now,
                "lease_until": now + self.lease,
                "expires_at": now + self._keep,
            }
        )
        return job_id

    async def get(self, job_id: str, *, owner: str) -> Job | None:
        """The job, to its owner only (anyone else: None, as if it did not exist)."""
        doc = await self._jobs.find_one({"_id": job_id})
        now = datetime.now(UTC)
        if doc is None or doc["owner"] != owner or doc["expires_at"] <= now:
            return None
        state, error = doc["state"], doc["error"]
        if state == RUNNING and doc["lease_until"] <= now:
            # Given up for good: a process that comes back late cannot change it any more.
            await self._jobs.update_one(
                {"_id": job_id, "state": RUNNING, "lease_until": {"$lte": now}},
                {"$set": {"state": FAILED, "error": INTERRUPTED}},
            )
            state, error = FAILED, INTERRUPTED
        return Job(
            id=doc["_id"],
            kind=doc["kind"],
            title=doc["title"],
            state=state,
            stage=doc["stage"],
            done=doc["done"],
            total=doc["total"],
            back=doc["back"],
            result=doc["result"],
            error=error,
            files=[FileRef(**ref) for ref in doc["files"]],
        )

    async def progress(self, job_id: str, *, stage: str, done: int) -> None:
        """Record how far the job got (and renew its lease)."""
        await self._update(job_id, {"stage": stage, "done": done})

    async def renew(self, job_id: str) -> None:
        """The job's process is alive: extend its lease."""
        await self._update(job_id, {})

    async def finish(self, job_id: str, *, result: Doc | None) -> None:
        """The job ended well."""
        await self._update(job_id, {"state": DONE, "result": result}, final=True)

    async def fail(self, job_id: str, *, error: str) -> None:
        """The job ended with an error (a Spanish sentence for its owner)."""
        await self._update(job_id, {"state": FAILED, "error": error}, final=True)

    async def put_file(self, job_id: str, ref: FileRef, content: bytes) -> None:
        """Keep a file the job produced (until the job expires)."""
        await self._files.replace_one(
            {"_id": f"{job_id}/{ref.name}"},
            {"content": Binary(content), "expires_at": datetime.now(UTC) + self._keep},
            upsert=True,
        )
        entry = asdict(ref)
        await self._jobs.update_one({"_id": job_id, "state": RUNNING}, {"$push": {"files": entry}})

    async def file(self, job: Job, name: str) -> tuple[FileRef, bytes] | None:
        """A file of a finished job, by its name in the job."""
        ref = next((ref for ref in job.files if ref.name == name), None)
        if ref is None or job.state != DONE:
            return None
        doc = await self._files.find_one({"_id": f"{job.id}/{name}"})
        return None if doc is None else (ref, bytes(doc["content"]))

    async def _update(self, job_id: str, fields: Doc, *, final: bool = False) -> None:
        """Only a running job in its lease changes: one that ended or was given up stays so."""
        now = datetime.now(UTC)
        changes = {**fields, "lease_until": now if final else now + self.lease}
        await self._jobs.update_one(
            {"_id": job_id, "state": RUNNING, "lease_until": {"$gt": now}}, {"$set": changes}
        )

    async def _purge(self) -> None:
        """Delete expired jobs and files now and then (a full scan of few documents)."""
        now = datetime.now(UTC)
        if now - self._purged < PURGE_EVERY:
            return
        self._purged = now
        await self._jobs.delete_many({"expires_at": {"$lte": now}})
        await self._files.delete_many({"expires_at": {"$lte": now}})
