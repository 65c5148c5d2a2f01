"""Recent captures by input id, so a page can fetch more layers or trace units without resending its input.

Bounded by bytes (least recently used first out). Each worker process has its own: a request that names an id this
worker does not hold gets `capture_expired` and the client resends the input, so no request depends on which
worker answered the one before.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Capture:
    """One input fed to one model, with every layer's value (batch of one)."""

    model: str
    input: torch.Tensor  # (1, C, H, W)
    values: dict[str, torch.Tensor]

    @property
    def nbytes(self) -> int:
        """Memory held by the capture's tensors."""
        return sum(t.numel() * t.element_size() for t in self.values.values())


def input_id(model: str, sha256: str | None, x: torch.Tensor) -> str:
    """A name for (model, weights, input tensor): the same input to the same model always gets the same id."""
    digest = hashlib.sha256(f"{model}\0{sha256 or ''}\0{list(x.shape)}\0".encode())
    digest.update(x.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


class CaptureCache:
    """An LRU of captures bounded by the bytes they hold; safe to share between executor threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Capture] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Capture | None:
        """The capture for an id, or None when this process no longer holds it."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, capture: Capture) -> None:
        """Keep a capture, evicting the least recently used ones beyond the byte budget."""
        size = capture.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[key] = capture
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.nbytes

    @property
    def held_bytes(self) -> int:
        """Bytes currently held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
