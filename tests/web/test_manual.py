"""The API manual as a person meets it, and the 8-bit display encoding the page draws from."""

from __future__ import annotations

import json

import numpy as np
from fastapi.testclient import TestClient

from app.core.encoding import dequantise_u8
from app.web.openapi import OPERATIONS


def test_operations_have_names_a_person_would_choose(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert sorted(ids) == sorted(i for i, _ in OPERATIONS.values())
    assert all("_api_v1_" not in i and not i.endswith(("_get", "_post")) for i in ids)
    assert all(op["summary"] in {s for _, s in OPERATIONS.values()} for op in operations)


def test_every_json_example_in_the_manual_succeeds(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    tried = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            example = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
            if example is None:
                continue
            r = client.request(method.upper(), path, json=example)
            assert r.status_code == 200, (path, r.text[:300])
            tried += 1
    assert tried >= 2
    predicted = client.post(
        "/api/v1/predict?layers=",
        json=spec["paths"]["/api/v1/predict"]["post"]["requestBody"]["content"]["application/json"]["example"],
    ).json()
    assert predicted["prediction"] == 7  # the example is a real digit, read as what it is


def frame(content: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(content[:4], "little")
    start = 4 + n + (-(4 + n) % 4)
    return json.loads(content[4 : 4 + n]), content[start:]


def test_u8_encoding_is_the_json_values_within_half_a_step_of_each_maps_range(client: TestClient) -> None:
    digit = {"pixels": (np.eye(28, dtype=np.float32) * 0.8).tolist()}
    plain = client.post("/api/v1/predict?steps=false", json=digit).json()
    r = client.post("/api/v1/predict?steps=false&encoding=u8", json=digit)
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.convscope.frame"
    header, data = frame(r.content)
    assert header["prediction"] == plain["prediction"] and header["input"] == plain["input"]
    for exact, packed in zip(plain["layers"], header["layers"], strict=True):
        v = packed["values"]
        codes = np.frombuffer(data, dtype=np.uint8, count=v["length"], offset=v["offset"])
        lo, hi = np.array(v["min"], dtype=np.float32), np.array(v["max"], dtype=np.float32)
        want = np.array(exact["values"], dtype=np.float64)
        step = np.repeat((hi.astype(np.float64) - lo) / 255 / 2, v["length"] // len(lo))
        assert np.all(np.abs(dequantise_u8(codes, lo, hi) - want) <= step * (1 + 1e-9) + 1e-12), exact["name"]
    assert len(r.content) <= 30 * 1024, f"{len(r.content)} bytes: a live update must fit in 30 KB"
    binary = client.post("/api/v1/predict?steps=false&encoding=binary", json=digit)
    assert len(r.content) < len(binary.content) / 2
