"""The one place CPU work runs in a worker: a bounded thread pool, so the event loop only ever does I/O."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable
from typing import TypeVar

from app.web.errors import ApiError

T = TypeVar("T")


class Executor:
    """`await run(fn, *args)` runs fn on one of `threads` threads; more than `threads + queue` jobs at once is a 503.

    Refusing at once (with Retry-After) keeps latency bounded when a burst of costly requests arrives: a job is never
    admitted behind more work than the pool can finish in reasonable time, and the event loop stays free for cheap
    requests such as /healthz.
    """

    def __init__(self, threads: int, queue: int, retry_after: int = 1) -> None:
        self.threads = threads
        self.capacity = threads + queue
        self.retry_after = retry_after
        self.pending = 0  # jobs admitted and not yet finished; only touched on the event loop's thread
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None  # started by the first job

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on the pool; ApiError 503 `busy` if the pool and its queue are full."""
        if self.pending >= self.capacity:
            raise ApiError(
                503,
                "busy",
                f"The server is busy ({self.pending} jobs in progress or queued); retry in {self.retry_after} s.",
                headers={"Retry-After": str(self.retry_after)},
            )
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix="convscope-cpu")
        future = self._pool.submit(fn, *args)
        self.pending += 1

        def finished(_: concurrent.futures.Future[T]) -> None:
            # The slot is freed when the thread is done, not when the awaiting request gives up (a cancelled request
            # whose job is already running still occupies a thread).
            with contextlib.suppress(RuntimeError):  # the loop has closed: the process is exiting
                loop.call_soon_threadsafe(self._release)

        future.add_done_callback(finished)
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        self.pending -= 1

    def shutdown(self) -> None:
        """Finish running jobs, drop queued ones (their requests are gone by now); a later job starts a new pool."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
