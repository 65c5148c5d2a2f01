"""Read, verify and download the standard MNIST IDX files."""

from __future__ import annotations

import gzip
import hashlib
import struct
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
# MD5 of the decompressed IDX payloads: they identify the data whatever gzip settings a mirror used.
RAW_MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


class DatasetError(RuntimeError):
    """The MNIST files are missing, corrupt or not what they claim to be."""


@dataclass(frozen=True)
class Split:
    """One MNIST split: uint8 images (N, 28, 28) and uint8 labels (N,)."""

    images: np.ndarray
    labels: np.ndarray


def _parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Parse an IDX payload (uint8 data only, as MNIST uses)."""
    if len(raw) < 4:
        raise DatasetError(f"{name}: too short to be an IDX file")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise DatasetError(f"{name}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DatasetError(f"{name}: expected {int(np.prod(dims))} values, found {body.size}")
    return body.reshape(dims)


def read_idx(path: Path, verify: bool = True) -> np.ndarray:
    """Read one gzip-compressed IDX file, checking its content against the known MD5."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc
    expected = RAW_MD5.get(path.name)
    if verify and expected is not None and hashlib.md5(raw).hexdigest() != expected:
        raise DatasetError(f"{path}: checksum mismatch, the file is corrupt or not the standard MNIST file")
    return _parse_idx(raw, path.name)


def load_split(data_dir: Path, split: str, verify: bool = True) -> Split:
    """Load the 'train' or 't10k'/'test' split from a directory of IDX .gz files."""
    key = "test" if split in ("test", "t10k") else "train"
    images_path = Path(data_dir) / FILES[f"{key}_images"]
    labels_path = Path(data_dir) / FILES[f"{key}_labels"]
    for path in (images_path, labels_path):
        if not path.is_file():
            raise DatasetError(f"missing {path}; pass --data-dir with the four MNIST .gz files or use --download")
    images = read_idx(images_path, verify)
    labels = read_idx(labels_path, verify)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DatasetError(f"{data_dir}: images {images.shape} and labels {labels.shape} do not match")
    return Split(images=images, labels=labels)


def _raw_md5(compressed: bytes) -> str | None:
    """MD5 of a gzip payload's content, or None if it does not decompress."""
    try:
        return hashlib.md5(gzip.decompress(compressed)).hexdigest()
    except (OSError, EOFError):
        return None


def download(data_dir: Path) -> None:
    """Fetch the four standard files from the public mirrors, verifying each checksum."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for filename, md5 in RAW_MD5.items():
        target = data_dir / filename
        if target.is_file() and _raw_md5(target.read_bytes()) == md5:
            continue
        errors = []
        for mirror in MIRRORS:
            try:
                with urllib.request.urlopen(mirror + filename, timeout=60) as response:
                    payload = response.read()
            except OSError as exc:
                errors.append(f"{mirror}: {exc}")
                continue
            if _raw_md5(payload) != md5:
                errors.append(f"{mirror}: checksum mismatch")
                continue
            target.write_bytes(payload)
            break
        else:
            raise DatasetError(f"could not download {filename}: " + "; ".join(errors))
