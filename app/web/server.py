"""Run the server: one process, or N worker processes that each own an SO_REUSEPORT socket.

Uvicorn's own workers share one listening socket, and whichever worker wakes first accepts a burst of new
connections: with keep-alive clients (browsers, load generators) one worker can end up with nearly all of them
while the other idles. With a socket per worker, the kernel spreads connections evenly across the workers.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import socket
import time
from types import FrameType

import uvicorn

from app.core.models import Catalog
from app.web.app import create_app
from app.web.settings import Settings

log = logging.getLogger("convscope")
GRACE_SECONDS = 10


def _config(settings: Settings) -> uvicorn.Config:
    """Uvicorn's config for an app built here from the settings the CLI passed."""
    app = create_app(settings)
    # Start-up objects (modules, schemas, weights) live for the whole process: keep them out of every future
    # full collection, whose pauses otherwise show up as latency spikes under load.
    gc.collect()
    gc.freeze()
    # Uvicorn's access log is replaced by the structured one (app.web.access_log); SIGTERM drains for GRACE_SECONDS.
    return uvicorn.Config(app, log_level=settings.log_level, access_log=False, timeout_graceful_shutdown=GRACE_SECONDS)


def _socket(host: str, port: int, listen: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(2048)
    return sock


def _worker(host: str, port: int, settings: Settings) -> None:
    """One worker process: its own socket on the shared port, its own copy of the app."""
    uvicorn.Server(_config(settings)).run(sockets=[_socket(host, port)])


def serve(host: str, port: int, workers: int, settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; with workers > 1, supervise the processes and restart any that die."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        config = _config(settings)
        config.host, config.port = host, port
        uvicorn.Server(config).run()
        return
    _socket(host, port, listen=False).close()  # fail here, once, if the address is taken
    if settings.models:
        Catalog.load(
            list(settings.models), settings.models_dir, device=settings.device
        )  # a bad model fails here, once, not per worker
    context = multiprocessing.get_context("spawn")

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(host, port, settings), daemon=False)
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: each worker finishes its requests in flight

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"convscope: {workers} workers on http://{host}:{port}", flush=True)
    while not stopping:
        for i, process in enumerate(processes):
            if not process.is_alive() and not stopping:
                log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                processes[i] = start()
        time.sleep(0.5)
    for process in processes:
        process.join(timeout=GRACE_SECONDS + 5)
        if process.is_alive():
            process.kill()
            process.join()
