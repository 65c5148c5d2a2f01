"""Long jobs (a slow attribution, a data-set pass): polled for progress, cancellable.

Jobs run on their own bounded executor (one thread), so a minute-long pass never sits in front of the interactive
requests on the request executor; when its queue is full a new job is refused at once with 503 busy. A job belongs
to the worker that started it (like input ids): another worker answers 404 unknown_job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from app.core.progress import Cancelled
from app.core.runtime import set_thread_threads
from app.web.errors import ApiError
from app.web.executor import Executor

log = logging.getLogger("convscope")
Status = Literal["running", "done", "failed", "cancelled"]


@dataclass
class Job:
    """One long job's state; `progress` is handed to the work as its callback."""

    id: str
    kind: str
    status: Status = "running"
    done: int = 0
    total: int = 0
    result: Any = None
    error: dict[str, str] | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int) -> None:
        """Record progress; raise Cancelled once the job is cancelled (the work stops at its next step)."""
        if self.stop.is_set():
            raise Cancelled
        self.done, self.total = done, total

    def describe(self) -> dict[str, Any]:
        """The job as GET /api/v2/jobs/{id} answers it."""
        end = self.finished if self.finished is not None else time.monotonic()
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "fraction": (self.done / self.total) if self.total else (1.0 if self.status == "done" else 0.0),
            "seconds": end - self.started,
            "result": self.result if self.status == "done" else None,
            "error": self.error,
        }


class Jobs:
    """The worker's jobs, newest last; finished ones beyond `keep` are forgotten, oldest first."""

    def __init__(self, keep: int = 32, queue: int = 8, threads: int = 1) -> None:
        self.keep = keep
        # one job at a time, on `threads` torch threads: a long job uses the cores the worker's requests leave idle
        self.executor = Executor(
            1, queue, max_wait=float("inf"), initializer=functools.partial(set_thread_threads, threads)
        )
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, kind: str, work: Callable[[Job], Any]) -> Job:
        """Run work(job) on the jobs' executor in the background; its result or error lands on the job."""
        running = sum(1 for j in self._jobs.values() if j.status == "running")
        if running >= self.executor.capacity:
            raise ApiError(
                503, "busy", f"{running} long jobs are running or queued; retry later.", headers={"Retry-After": "5"}
            )
        job = Job(uuid.uuid4().hex, kind)
        self._jobs[job.id] = job
        self._forget_old()

        async def run() -> None:
            try:
                job.result = await self.executor.run(work, job)
                job.status = "done"
            except Cancelled:
                job.status = "cancelled"
            except ApiError as exc:
                job.status, job.error = "failed", {"code": exc.code, "message": exc.message}
            except Exception:  # a bug: logged once, reported as a failure, never a hung job
                log.exception("job %s (%s) failed", job.id, kind)
                job.status, job.error = "failed", {"code": "internal", "message": "the job failed unexpectedly"}
            finally:
                job.finished = time.monotonic()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def find(self, job_id: str) -> Job | None:
        """A job by id, or None once forgotten."""
        return self._jobs.get(job_id)

    def get(self, job_id: str) -> Job:
        """A job by id; 404 unknown_job otherwise."""
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(
                404, "unknown_job", f"No job {job_id!r} on this worker (finished long ago, or never started)."
            )
        return job

    def cancel(self, job_id: str) -> Job:
        """Ask a job to stop; it ends as 'cancelled' at its next progress step."""
        job = self.get(job_id)
        if job.status == "running":
            job.stop.set()
        return job

    def shutdown(self) -> None:
        """Stop every running job and the jobs' thread (at exit)."""
        for job in self._jobs.values():
            job.stop.set()
        self.executor.shutdown()

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.status != "running"]
        for k in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[k]
