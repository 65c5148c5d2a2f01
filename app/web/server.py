"""Run the server: one process, or N worker processes that each own an SO_REUSEPORT socket.

Uvicorn's own workers share one listening socket, and whichever worker wakes first accepts a burst of new
connections: with keep-alive clients (browsers, load generators) one worker can end up with nearly all of them
while the other idles. With a socket per worker, the kernel spreads connections evenly across the workers.

One owner per port: before anything starts, the port is bound once *without* SO_REUSEPORT, which fails if any
socket at all holds it (another convscope included); the supervisor then keeps a bound, never-listening
SO_REUSEPORT socket for its whole life, so no other program can join the port while workers come and go.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import multiprocessing
import signal
import socket
import struct
import sys
import time
from types import FrameType

import uvicorn

from app.core.models import Catalog
from app.web.app import create_app
from app.web.protocol import ConnectionLimits, protocol_class
from app.web.settings import Settings

log = logging.getLogger("convscope")
WILDCARD = ("0.0.0.0", "::", "")


class PortInUse(Exception):
    """The address is already bound by another socket (another convscope, or anything else)."""


# Classic BPF on a listening TCP socket (it sees the TCP header): drop a segment whose flags are SYN without ACK — a
# new handshake — and keep the rest, so handshakes already under way complete. (code, jt, jf, k) per instruction.
_DROP_PURE_SYN = (
    (0x30, 0, 0, 13),  # ldb [13]: the TCP flags
    (0x54, 0, 0, 0x12),  # and #(SYN | ACK)
    (0x15, 0, 1, 0x02),  # jeq #SYN: next, else skip one
    (0x06, 0, 0, 0),  # ret #0: drop
    (0x06, 0, 0, 0xFFFFFFFF),  # ret #-1: keep
)
SO_ATTACH_FILTER = 26  # Linux
HANDSHAKE_GRACE = 0.05  # s: loopback handshakes take microseconds, remote ones a round trip


def _drop_new_handshakes(sock: socket.socket) -> bool:
    """Stop a listening socket from starting new handshakes (Linux); False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *ins) for ins in _DROP_PURE_SYN))
    program = struct.pack("HL", len(_DROP_PURE_SYN), ctypes.addressof(code))  # struct sock_fprog
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)  # the kernel copies the program
    except OSError:
        return False
    return True


class _Server(uvicorn.Server):
    """Uvicorn's server, draining without dropping what the kernel has already accepted on our behalf."""

    def __init__(self, config: uvicorn.Config, listeners: list[socket.socket]) -> None:
        super().__init__(config)
        self.listeners = listeners

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Connections in the kernel's accept queue have completed their handshake and may have sent a request; closing
        # the listening socket would reset them. First refuse new handshakes (a filter drops pure SYNs; the client
        # retries and then meets the closed port), give those already under way a moment to land in the queue, accept
        # everything queued, stop listening, then serve them like any other connection being drained.
        if any([_drop_new_handshakes(sock) for sock in self.listeners]):
            await asyncio.sleep(HANDSHAKE_GRACE)
        queued: list[socket.socket] = []
        for sock in self.listeners:
            while True:
                try:
                    queued.append(sock.accept()[0])
                except OSError:  # BlockingIOError: the queue is empty
                    break
        for server in self.servers:
            server.close()
        loop = asyncio.get_running_loop()
        for conn in queued:
            conn.setblocking(False)
            await loop.connect_accepted_socket(self._protocol, conn)
        await super().shutdown(sockets)

    def _protocol(self) -> asyncio.Protocol:
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )


def _config(settings: Settings) -> uvicorn.Config:
    """Uvicorn's config for an app built here from the settings the CLI passed."""
    app = create_app(settings)
    # Start-up objects (modules, schemas, weights) live for the whole process: keep them out of every future
    # full collection, whose pauses otherwise show up as latency spikes under load.
    gc.collect()
    gc.freeze()
    # The event loop shares the GIL with the executor's threads: hand it over within 1 ms rather than the default 5 ms,
    # so cheap requests (/healthz) are not held behind the Python parts of decoding and inference.
    sys.setswitchinterval(0.001)
    limits = ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout=settings.header_timeout,
        keep_alive_timeout=settings.keep_alive_timeout,
        max_requests=settings.max_requests_per_connection,
        max_age=settings.max_connection_age,
        drain_timeout=settings.drain_timeout,
    )
    # Uvicorn's access log is replaced by the structured one (app.web.access_log); SIGTERM drains for drain_timeout.
    return uvicorn.Config(
        app,
        http=protocol_class(limits),
        ws="none",  # no WebSocket routes
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=max(1, round(settings.drain_timeout)),
    )


def _socket(host: str, port: int, reuse_port: bool, listen: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers of a previous run are fine
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(
            f"port {port} on {host or '*'} is already in use ({exc.strerror}); choose another --port"
        ) from (exc)
    if listen:
        sock.listen(2048)
    return sock


def _run(settings: Settings, sock: socket.socket) -> None:
    _Server(_config(settings), [sock]).run(sockets=[sock])


def _worker(host: str, port: int, settings: Settings) -> None:
    """One worker process: its own socket on the shared port, its own copy of the app."""
    _run(settings, _socket(host, port, reuse_port=True))


def serve(host: str, port: int, workers: int, settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; with workers > 1, supervise the processes and restart any that die.

    Raises PortInUse, before loading anything, if another socket holds the address.
    """
    if host not in WILDCARD and host not in settings.allowed_hosts and "*" not in settings.allowed_hosts:
        settings = settings.model_copy(update={"allowed_hosts": (*settings.allowed_hosts, host)})
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        _run(settings, _socket(host, port, reuse_port=False))
        return
    _socket(host, port, reuse_port=False, listen=False).close()  # fails if anyone holds the port
    keeper = _socket(host, port, reuse_port=True, listen=False)  # holds it for our workers from now on
    if settings.models:
        # A bad model fails here, once, with its message, not in every worker.
        Catalog.load(list(settings.models), settings.models_dir, device=settings.device)
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
    try:
        while not stopping:
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                    processes[i] = start()
            time.sleep(0.5)
        for process in processes:
            process.join(timeout=settings.drain_timeout + 5)
            if process.is_alive():
                process.kill()
                process.join()
    finally:
        keeper.close()
