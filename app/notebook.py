"""Look inside an in-memory model from Python or a notebook: one call serves it and returns its URL.

from app.notebook import serve
view = serve(model, torch.zeros(1, 3, 32, 32), labels=classes, mean=(0.49, 0.48, 0.45), std=(0.25,) * 3)
view            # in Jupyter: the page, in an IFrame
view.url        # http://127.0.0.1:PORT/graph?model=NAME
view.stop()
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import uvicorn
from torch import nn

from app.core import datasets
from app.core.models import Catalog, Recipe, from_module
from app.web.app import create_app
from app.web.settings import Settings

# Jupyter and VS Code serve notebooks from localhost; the page may be framed by them and by itself, nothing else.
NOTEBOOK_FRAME_ANCESTORS = "'self' http://localhost:* http://127.0.0.1:* vscode-webview:"


@dataclass
class Served:
    """A running convscope server for one session: its URL, and how to show or stop it."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def iframe(self, height: int = 800) -> Any:
        """The page as an IPython IFrame (IPython must be installed, as it is in Jupyter)."""
        from IPython.display import IFrame

        return IFrame(self.url, width="100%", height=height)

    def _repr_html_(self) -> str:
        return f'<iframe src="{self.url}" width="100%" height="800" style="border:0"></iframe>'

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=15)


def serve(
    model: nn.Module,
    example_input: torch.Tensor,
    *,
    name: str = "model",
    labels: list[str] | None = None,
    preprocess: Recipe | None = None,
    mean: tuple[float, ...] = (),
    std: tuple[float, ...] = (),
    dataset: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    frame_ancestors: str = NOTEBOOK_FRAME_ANCESTORS,
) -> Served:
    """Capture the module (eval mode), serve it beside the shipped models in a background thread, return the URL."""
    inspectable = from_module(name, model, example_input, labels=labels, recipe=preprocess, mean=mean, std=std)
    if dataset is not None:  # a folder of images (class subfolders optional): the page's gallery
        inspectable.dataset = datasets.folder(Path(dataset), inspectable.input_spec, labels)
    settings = Settings(log_level="warning", frame_ancestors=frame_ancestors)
    catalog = Catalog.load([], settings.models_dir, extra=[inspectable])
    app = create_app(settings, catalog=catalog)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="convscope")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("the convscope server did not start")
    bound = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    return Served(f"http://{url_host}:{bound}/graph?model={name}", server, thread)
