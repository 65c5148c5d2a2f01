"""Run a pure function in a short-lived helper process: its memory, its crash and its CPU time are not the caller's.

Decoding a large image touches tens of MiB that glibc keeps in a long-running server's heap after they are freed, and
a malicious image could crash or hang a decoder. A process forked for one call (from a forkserver that has already
imported numpy and Pillow, so a call costs a fork, not an interpreter start) hands all of its memory back when it
exits, can be killed on a deadline, and runs at a lower CPU priority than the server's event loop.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")
# The helper yields the CPU to the server's own work (answering cheap requests) when both want it.
HELPER_NICENESS = 5
# What the forkserver imports once, so each helper starts with them loaded: the server's main module (when it is a
# script, multiprocessing would otherwise re-run it in every child), this module and the preprocessing it runs.
PRELOAD = ["__main__", "app.core.isolation", "app.core.preprocess"]
_CONTEXT = multiprocessing.get_context("forkserver")


class HelperFailed(Exception):
    """The helper process died (a crash, or killed) before answering."""


class HelperTimeout(Exception):
    """The helper process did not answer within its deadline and was killed."""


class Refused(Exception):
    """The function raised an exception in the helper; `error` is that exception, rebuilt here."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def start() -> None:
    """Start the forkserver now (it imports PRELOAD once) rather than in the first call."""
    _CONTEXT.set_forkserver_preload(PRELOAD)
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The helper: run fn(*args) and send back ("ok", result) or ("raised", (type, state))."""
    os.nice(HELPER_NICENESS)
    try:
        reply: tuple[str, Any] = ("ok", fn(*args))
    except Exception as exc:  # any failure of fn is the caller's to interpret
        # Exceptions with custom __init__ do not all unpickle; send the class and its attributes instead.
        reply = ("raised", (type(exc), str(exc), vars(exc)))
    conn.send(reply)
    conn.close()


def call(fn: Callable[..., T], *args: Any, timeout: float) -> T:
    """fn(*args) in a new helper process; Refused (fn raised), HelperTimeout or HelperFailed otherwise."""
    _CONTEXT.set_forkserver_preload(PRELOAD)
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(sender, fn, args), daemon=True, name="convscope-helper")
    try:
        process.start()
        sender.close()  # the child holds the only writing end now: its exit means end of file here
        if not receiver.poll(timeout):
            process.kill()
            raise HelperTimeout(f"no answer within {timeout:g} s")
        try:
            kind, payload = receiver.recv()
        except (EOFError, OSError) as exc:
            process.join(1)
            raise HelperFailed(f"the helper process exited with status {process.exitcode}") from exc
    finally:
        sender.close()
        receiver.close()
        if process.pid is not None:  # started: reap it (it exits right after answering)
            process.join(1)
            if process.exitcode is None:
                process.kill()
                process.join()
            process.close()
    if kind == "ok":
        result: T = payload
        return result
    cls, message, state = payload
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    raise Refused(error)
