"""Progress of long CPU work (attribution, data-set passes): a callback that may stop the work."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
"""progress(done, total): called as work finishes; raises Cancelled to stop it."""


class Cancelled(Exception):
    """The caller asked to stop a long job."""
