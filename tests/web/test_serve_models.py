"""`convscope serve --model`: a user's .pt2 and factory model served beside the shipped ones; bad models fail early."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import torch
from PIL import Image

from tests.core.test_datasets import shapes_folder
from tests.support import nets
from tests.support.drawings import draw_digit, png
from tests.support.live_server import server_process

FACTORY = """
from tests.core.test_datasets import shapes_folder
from tests.support import nets

def make_inception():
    return nets.build("inception")[0]
"""


def test_serve_a_pt2_and_a_factory_model(tmp_path: Path) -> None:
    net, x = nets.build("colour_lenet")
    program = torch.export.export(net, (torch.cat([x, x]),), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},))
    torch.export.save(program, tmp_path / "colour.pt2")
    (tmp_path / "labels.txt").write_text("\n".join(f"shape {i}" for i in range(10)))
    (tmp_path / "my_nets.py").write_text(FACTORY)
    inception, _ = nets.build("inception")
    torch.save(inception.state_dict(), tmp_path / "inception.pt")
    args = ("--model", str(tmp_path / "colour.pt2"), "--labels", str(tmp_path / "labels.txt"),
            "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25",
            "--model", f"{tmp_path / 'my_nets.py'}:make_inception", "--weights", str(tmp_path / "inception.pt"),
            "--input", "3x9x7", "--name", "inception", "--dataset", str(tmp_path / "imgs"))  # fmt: skip
    shapes_folder(tmp_path / "imgs", count=3)
    with server_process(args=args, timeout=120) as (url, _), httpx.Client(base_url=url, timeout=60) as api:
        models = api.get("/api/v2/models").json()
        assert [m["name"] for m in models["models"]][:3] == ["colour", "inception", "lenet"]
        assert models["models"][0]["input"]["mean"] == [0.5, 0.5, 0.5]
        r = api.post("/api/v2/predict?model=colour&layers=", files={"image": ("d.png", png(draw_digit("7")))})
        assert r.status_code == 200 and r.json()["prediction"]["label"].startswith("shape ")
        body = {"pixels": torch.zeros(3, 9, 7).tolist(), "layer": "cat", "index": [0, 0, 0]}
        t = api.post("/api/v2/trace?model=inception", json=body)
        assert t.status_code == 200 and t.json()["fields"][0]["layer"] == "input"
        assert api.get("/api/v1/models").json()["default"] == "lenet", "v1 keeps answering for the LeNets"
        gallery = api.get("/api/v2/gallery?model=inception").json()
        assert gallery["source"] == "folder" and [i["name"] for i in gallery["images"]] == [
            "circle/000.png", "square/001.png", "triangle/002.png",
        ]  # fmt: skip
        shown = Image.open(io.BytesIO(api.get(gallery["images"][2]["png"]).content))
        assert shown.size == (7, 9) and shown.mode == "RGB"


def test_a_model_that_cannot_load_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def make():\n    raise RuntimeError('no GPU driver')\n")
    for args, expected in [
        (["--model", str(tmp_path / "missing.pt2")], "missing.pt2: no such file"),
        (["--model", f"{tmp_path / 'broken.py'}:make", "--input", "3x8x8"], "no GPU driver"),
        (["--labels", "x.txt"], "give --model first"),
        (
            ["--model", "tests.support.nets:resnet18", "--input", "3x32x32", "--dataset", str(tmp_path / "nope")],
            "nope: no such directory",
        ),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--port", "1", *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode != 0
        assert expected in done.stderr and "Traceback" not in done.stderr
