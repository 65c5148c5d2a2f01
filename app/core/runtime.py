"""How torch runs in a serving process."""

from __future__ import annotations

import torch


def configure_torch(threads: int = 1) -> None:
    """Batch-1 inference: one intra-op thread per worker, and the plain convolution path (oneDNN costs more here)."""
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = False  # type: ignore[assignment]


def set_thread_threads(threads: int) -> None:
    """Give the calling thread `threads` intra-op threads; other threads that already ran torch keep theirs."""
    torch.get_num_threads()  # torch copies the process-wide count into each thread once, lazily: let it, then set ours
    torch.set_num_threads(threads)
