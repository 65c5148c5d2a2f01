"""A request's time budget: when it arrived, so the executor and an isolated decode can tell how much is left.

The executor's admission (expected wait), its queue and an isolated decode's timeout each had their own bound, and
under load they added up past the 10 s in which every costly request should be answered. Now one deadline, counted
from the request's arrival, bounds them all: work still queued when it passes is not started (503 `busy`), and an
isolated decode may take only what is left (503 `decode_timeout`). The clock starts when the request has arrived
whole (its last body byte), so a client's own slow upload — bounded by `body_timeout` — does not eat the budget.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestClock:
    """When the request being served arrived (time.monotonic()); moved on when its body has been read whole."""

    arrived: float = field(default_factory=time.monotonic)


# Set by the Guard middleware for each request; None outside one (start-up work, background jobs' own clock).
REQUEST_CLOCK: ContextVar[RequestClock | None] = ContextVar("convscope_request_clock", default=None)
# Set by the executor around a job of a request with a budget: the monotonic time by which that budget ends.
JOB_DEADLINE: ContextVar[float | None] = ContextVar("convscope_job_deadline", default=None)


def deadline(budget: float | None) -> float | None:
    """The monotonic time by which the current request's `budget` seconds end; None without a request or budget."""
    clock = REQUEST_CLOCK.get()
    return None if clock is None or budget is None else clock.arrived + budget


def time_left() -> float | None:
    """Inside an executor job: seconds left of its request's budget (may be ≤ 0); None when it has none."""
    end = JOB_DEADLINE.get()
    return None if end is None else end - time.monotonic()
