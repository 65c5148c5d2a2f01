"""The MNIST reader: the bundled test set, corrupt files, verified downloads."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from app.core import mnist
from app.core.mnist import DatasetError, load_split, read_idx
from app.paths import MNIST_DIR


def test_bundled_test_set_is_verified_mnist() -> None:
    split = load_split(MNIST_DIR, "test")
    assert split.images.shape == (10_000, 28, 28) and split.images.dtype == np.uint8
    assert split.labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_corrupt_file_is_rejected(tmp_path: Path) -> None:
    raw = gzip.decompress((MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes())
    bad = tmp_path / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(raw[:-1] + bytes([(raw[-1] + 1) % 256])))
    with pytest.raises(DatasetError, match="checksum"):
        read_idx(bad)
    with pytest.raises(DatasetError, match="missing"):
        load_split(tmp_path / "nowhere", "test")


def test_download_verifies_checksums(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--download against a local mirror (127.0.0.1): good files land, a corrupt mirror is refused."""
    import functools
    import http.server
    import threading

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    names = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for name in names:
        (mirror / name).write_bytes((MNIST_DIR / name).read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        monkeypatch.setattr(mnist, "MIRRORS", (url,))
        monkeypatch.setattr(mnist, "RAW_MD5", {n: mnist.RAW_MD5[n] for n in names})
        target = tmp_path / "data"
        mnist.download(target)
        assert load_split(target, "test").labels[:5].tolist() == [7, 2, 1, 0, 4]
        (mirror / names[1]).write_bytes(gzip.compress(b"not the labels"))
        (target / names[1]).unlink()
        with pytest.raises(DatasetError, match="checksum"):
            mnist.download(target)
    finally:
        server.shutdown()
        server.server_close()
