"""Hostile clients and costly inputs, shared by tests/web, tests/stress and bench: raw sockets on 127.0.0.1 only."""

from __future__ import annotations

import io
import socket
import struct
import time
import zlib

import numpy as np
from PIL import Image

from app.core.preprocess import Limits


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    assert host in ("127.0.0.1", "localhost", "::1"), "hostile clients only ever talk to this machine"
    return host, int(port)


def connect(url: str, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(address(url), timeout=timeout)


def read_response(
    sock: socket.socket, timeout: float = 10.0, head_only: bool = False
) -> tuple[int, dict[str, str], bytes] | None:
    """One response (status, lower-cased headers, body); None if the server closed without answering."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = 0 if head_only else int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split()[1]), headers, body
    except (ConnectionResetError, BrokenPipeError):
        return None


def request_head(path: str = "/healthz", method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}".encode()


def drip(sock: socket.socket, data: bytes, interval: float, deadline: float) -> bool:
    """Send one byte every `interval` s until done or `deadline`; False once the server closed the connection."""
    for i in range(len(data)):
        if time.monotonic() > deadline:
            return True
        try:
            sock.sendall(data[i : i + 1])
        except OSError:
            return False
        time.sleep(interval)
    return True


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def deep_png(width: int, height: int) -> bytes:
    """16-bit RGBA, Adam7-interlaced, all zeros: the most work per pixel a PNG asks for, in a few KB."""
    rows = b"\x00" * ((width * 8 + 1) * height + 8 * height)
    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 9))
        + _png_chunk(b"IEND", b"")
    )


def _stroke(width: int, height: int, mode: str) -> Image.Image:
    a = np.zeros((height, width), np.uint8)
    a[height // 4 : 3 * height // 4, width // 2 - width // 20 : width // 2 + width // 20] = 255
    return Image.fromarray(a, "L").convert(mode)


def costly_images(limits: Limits | None = None) -> list[tuple[str, bytes, str]]:
    """The costliest images within the limits (name, bytes, content type): each decodes as much as it may."""
    limits = limits or Limits()
    side = int(limits.decode_pixels**0.5)  # just within the decoding budget
    big = int(limits.max_pixels**0.5)  # as large as may be declared at all
    grain = np.random.default_rng(0).normal(180, 20, (3000, 4000, 3))
    photo = np.clip(grain, 0, 255).astype(np.uint8)
    photo[800:2200, 1900:2100] = 20
    return [
        ("interlaced RGBA PNG at the budget", _save(_stroke(side, side, "RGBA"), "PNG", interlace=1), "image/png"),
        ("16-bit interlaced PNG at the budget", deep_png(side, side), "image/png"),
        ("lossless WebP at the budget", _save(_stroke(side, side, "RGBA"), "WEBP", lossless=True), "image/webp"),
        ("progressive JPEG, declared maximum", _save(_stroke(big, big, "RGB"), "JPEG", progressive=True), "image/jpeg"),
        ("grainy 12 MP JPEG (a phone photo)", _save(Image.fromarray(photo), "JPEG", quality=80), "image/jpeg"),
        ("PNG over the budget (refused)", deep_png(side + 64, side + 64), "image/png"),
        ("GIF at the budget", _save(_stroke(side, side, "L"), "GIF"), "image/gif"),
    ]
