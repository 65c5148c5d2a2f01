"""Serving an in-memory model from Python (a notebook): one call, a URL, the page frameable by the notebook."""

from __future__ import annotations

import httpx2 as httpx
import pytest
import torch
from pydantic import ValidationError

from app.notebook import serve
from app.web.settings import Settings
from tests.support import nets


def test_serve_an_in_memory_model() -> None:
    net, x = nets.build("colour_lenet")
    view = serve(net, x, name="mine", labels=[f"c{i}" for i in range(10)])
    try:
        assert view.url.startswith("http://127.0.0.1:") and view.url.endswith("/graph?model=mine")
        base = view.url.split("/graph?")[0]
        page = httpx.get(view.url, timeout=30)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'self' http://localhost:*" in csp and "x-frame-options" not in page.headers
        r = httpx.post(f"{base}/api/v2/predict?model=mine&layers=", json={"pixels": x[0].tolist()}, timeout=30)
        with torch.no_grad():
            expected = torch.softmax(net(x)[0], 0)
        assert r.json()["prediction"]["index"] == int(expected.argmax())
        assert 'iframe src="http://127.0.0.1:' in view._repr_html_()
    finally:
        view.stop()
    assert not view.thread.is_alive()


def test_frame_ancestors_cannot_inject_headers() -> None:
    with pytest.raises(ValidationError):
        Settings(frame_ancestors="'self'; script-src *")
