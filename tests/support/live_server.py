"""A real convscope server in a subprocess on 127.0.0.1, for browser, concurrency and load tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(workers: int = 1, env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Start `convscope serve` and yield its base URL; stop it (gracefully, then by force) afterwards."""
    with server_process(workers, env, timeout) as (url, _):
        yield url


@contextmanager
def server_process(
    workers: int = 1, env: dict[str, str] | None = None, timeout: float = 60.0, args: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Like live_server, also yielding the process (for its pid and RSS)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "app",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        *args,
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    # Read the server's output all along: a pipe nobody reads fills up (64 KiB) and then blocks the server's logging.
    tail: deque[bytes] = deque(maxlen=200)
    reader = threading.Thread(target=lambda: tail.extend(iter(proc.stdout.readline, b"")) if proc.stdout else None)
    reader.start()
    try:
        wait_healthy(proc, url, timeout, tail)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=15)
        if proc.stdout:
            proc.stdout.close()


def wait_healthy(
    proc: subprocess.Popen[bytes], url: str, timeout: float, output: Iterable[bytes] | None = None
) -> None:
    """Poll /healthz until it answers 200; raise with the server's output if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            if output is None:
                out = proc.stdout.read().decode() if proc.stdout else ""
            else:
                time.sleep(0.2)  # let the reader catch the last lines
                out = b"".join(output).decode()
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not become healthy in time")
        time.sleep(0.2)


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
