"""The one place CPU work runs in a worker: a bounded thread pool, so the event loop only ever does I/O."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from app.web import budget as budgets
from app.web.errors import ApiError

T = TypeVar("T")
# A job this long decoded a large image or ran a big model: hand the freed heap back to the system afterwards, or
# glibc keeps it and a long-running worker's memory grows in steps with each costly upload.
TRIM_AFTER_SECONDS = 0.05
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6") if sys.platform.startswith("linux") else None


def release_free_memory() -> None:
    """glibc's malloc_trim(0): return free heap pages of every arena to the system (a no-op elsewhere)."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_allocator(mmap_threshold: int, arena_max: int) -> None:
    """glibc's mallopt at worker start: a fixed mmap threshold, an arena cap (0 keeps glibc's; a no-op elsewhere).

    By default glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), so after the
    first costly upload every later block of a few MiB (decoded images, a helper's pickled answer) comes from the heap
    and stays there; a fixed threshold keeps such blocks in their own mappings, given back the moment they are freed.
    """
    mallopt = getattr(_LIBC, "mallopt", None)
    if mallopt is None:
        return
    if mmap_threshold:
        mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
        # Twice the threshold, as glibc's sliding mode keeps it: a fixed threshold would otherwise leave the trim
        # threshold at 128 KiB, and the heap's top would shrink and grow again with every response-sized block
        # (measured: a drawn PNG's full predict with steps 25 % slower).
        mallopt(_M_TRIM_THRESHOLD, 2 * mmap_threshold)
    if arena_max:
        mallopt(_M_ARENA_MAX, arena_max)


class Executor:
    """`await run(fn, *args)` runs fn on one of `threads` threads, or refuses at once with 503 `busy`.

    A job is refused when `threads + queue` jobs are already admitted, or when the expected wait — jobs ahead times
    the recent mean job time, per thread — exceeds `max_wait` seconds. Refusing at once (with Retry-After) keeps
    latency bounded when a burst of costly requests arrives on a slow or shared machine, and the event loop stays
    free for cheap requests such as /healthz.

    With a `budget` (seconds), a job of a request (app.web.budget) must also be done within that many seconds of the
    request's arrival, as far as the executor can tell: it is refused at once when its expected wait plus a mean job
    exceeds what is left, and a job still queued when too little is left for a mean job is not started (503 `busy`).
    A running job is never stopped; it sees its deadline as `budget.time_left()` (an isolated decode's timeout).
    """

    def __init__(
        self,
        threads: int,
        queue: int,
        max_wait: float = 6.0,
        retry_after: int = 1,
        budget: float | None = None,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self.threads = threads
        self.initializer = initializer  # runs once in each new thread (e.g. its torch thread count)
        self.capacity = threads + queue
        self.max_wait = max_wait
        self.retry_after = retry_after
        self.budget = budget
        self.pending = 0  # jobs admitted and not yet finished; only touched on the event loop's thread
        self.mean_seconds = 0.0  # moving average of recent job times
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None  # started by the first job

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on the pool; ApiError 503 `busy` (with Retry-After) if too much work is ahead of it."""
        deadline = budgets.deadline(self.budget)
        left = float("inf") if deadline is None else deadline - time.monotonic()
        expected_wait = self.pending * self.mean_seconds / self.threads
        # Its own run counts too (the recent mean): a job that could only start at the end of its budget is refused.
        if self.pending >= self.capacity or expected_wait > self.max_wait or expected_wait + self.mean_seconds >= left:
            raise self._busy(f"The server is busy ({self.pending} jobs in progress or queued)")
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.threads, thread_name_prefix="convscope-cpu", initializer=self.initializer
            )
        took: list[float | None] = [None]  # stays None for a job that was not started

        def timed() -> T:
            started = time.monotonic()
            if deadline is not None and started + self.mean_seconds >= deadline:
                # Its request has waited (nearly) its whole budget in the queue: a late answer helps nobody, and
                # starting it would only push the jobs behind it past their budgets too.
                raise self._busy(f"The server was too busy to answer this request within {self.budget:g} s")
            token = budgets.JOB_DEADLINE.set(deadline)
            try:
                return fn(*args)
            finally:
                budgets.JOB_DEADLINE.reset(token)
                took[0] = seconds = time.monotonic() - started
                if seconds > TRIM_AFTER_SECONDS:
                    release_free_memory()

        def finished(_: concurrent.futures.Future[T]) -> None:
            # The slot is freed when the thread is done, not when the awaiting request gives up (a cancelled request
            # whose job is already running still occupies a thread).
            with contextlib.suppress(RuntimeError):  # the loop has closed: the process is exiting
                loop.call_soon_threadsafe(self._release, took[0])

        future = self._pool.submit(timed)
        self.pending += 1
        future.add_done_callback(finished)
        return await asyncio.wrap_future(future)

    def _busy(self, why: str) -> ApiError:
        return ApiError(
            503, "busy", f"{why}; retry in {self.retry_after} s.", headers={"Retry-After": str(self.retry_after)}
        )

    def _release(self, seconds: float | None) -> None:
        self.pending -= 1
        if seconds is not None:  # a job refused unstarted says nothing about how long jobs take
            # A slow average (about the last 20 jobs), so one long job (a first gallery) does not shut the door.
            self.mean_seconds += 0.05 * (seconds - self.mean_seconds)

    def shutdown(self) -> None:
        """Finish running jobs, drop queued ones (their requests are gone by now); a later job starts a new pool."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
