"""The lab's HTTP API: presets, convolve and softmax through the routes, and their 422s."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_lab_api(client: TestClient) -> None:
    presets = client.get("/api/v1/lab/presets").json()
    assert "sharpen" in presets["kernels"] and "smiley" in presets["examples"]
    ex = presets["examples"]["smiley"]
    r = client.post(
        "/api/v1/lab/convolve",
        json={"input": ex["input"], "kernel": ex["kernel"], "pool": {"type": "max", "size": 2, "stride": 2}},
    )
    assert r.status_code == 200 and r.json()["pooled"]["shape"] == [3, 3]
    s = client.post("/api/v1/lab/softmax", json={"scores": [1, 2, 3], "label": 0}).json()
    assert sum(s["probabilities"]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "body",
    [
        {"input": [[1, 2], [3]], "kernel": [[1]]},
        {"input": [[1.0] * 5] * 5, "kernel": [[1, 2], [3]]},
        {"input": [[1.0] * 5] * 5, "kernel": [[1.0] * 8] * 8},
        {"input": [[1.0] * 65] * 2, "kernel": [[1]]},
        {"input": [[1.0] * 2] * 2, "kernel": [[1.0] * 3] * 3},
        {"input": [[1.0] * 5] * 5, "kernel": [[1.0] * 4] * 4, "padding": "same"},
        {"input": [[1.0] * 5] * 5, "kernel": [[1]], "stride": 4},
        {"input": [[1.0] * 5] * 5, "kernel": [[1]], "pool": {"type": "max", "size": 6, "stride": 1}},
        {"input": [["a"] * 5] * 5, "kernel": [[1]]},
    ],
)
def test_lab_bad_input_is_422(client: TestClient, body: dict) -> None:
    r = client.post("/api/v1/lab/convolve", json=body)
    assert r.status_code == 422 and r.json()["error"]["message"]
