"""Run a pure function in a short-lived helper process: its memory, its crash and its CPU time are not the caller's.

Decoding a large image touches tens of MiB that glibc keeps in a long-running server's heap after they are freed, and
a malicious image could crash or hang a decoder. A process forked for one call (from a forkserver that has already
imported numpy and Pillow, so a call costs a fork, not an interpreter start) hands all of its memory back when it
exits, can be killed on a deadline, and runs at a lower CPU priority than the server's event loop.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")
# The helper yields the CPU to the server's own work (answering cheap requests) when both want it.
HELPER_NICENESS = 5
# What the forkserver imports once, so each helper starts with them loaded: this module and the preprocessing it runs.
PRELOAD = ["app.core.isolation", "app.core.preprocess"]
# multiprocessing re-runs a main *script* (the `convscope` console script) in every child unless the forkserver has
# imported it, and its own preload of "__main__" never does (Python 3.11 does not pass it the script's path): this
# variable passes the path, and importing this module in the forkserver imports the script there, once.
MAIN_SCRIPT = "CONVSCOPE_HELPER_MAIN_SCRIPT"
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
    _prepare()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _prepare() -> None:
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None) if getattr(main, "__spec__", None) is None else None
    if script:
        os.environ.setdefault(MAIN_SCRIPT, os.path.abspath(script))
    _CONTEXT.set_forkserver_preload(PRELOAD)


def _import_main_script() -> None:
    """In the forkserver: import the server's main script as multiprocessing's children expect to find it."""
    path = os.environ.get(MAIN_SCRIPT)
    if path and multiprocessing.parent_process() is None and getattr(sys.modules["__main__"], "__file__", None) != path:
        from multiprocessing import spawn

        spawn.import_main_path(path)


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
    _prepare()
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


if os.environ.get(MAIN_SCRIPT) and sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules:
    _import_main_script()  # this module is being preloaded by the helpers' forkserver
