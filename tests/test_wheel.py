"""The package installs as a wheel: built from the checkout, installed where the checkout cannot be seen, it serves."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from app import __version__
from tests.support.drawings import draw_digit, png
from tests.support.live_server import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout, as `pip wheel .` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("convscope-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding only the wheel; dependencies come from the test venv's site-packages as a plain path.

    A path line in a .pth file is added to sys.path without running that directory's own .pth files, so the
    test venv's editable finder (which points `app` at the checkout) stays out of the fresh venv.
    """
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def clean_env() -> dict[str, str]:
    """The environment without anything that would point Python at the checkout."""
    return {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("CONVSCOPE_")
    }


def test_wheel_carries_models_static_templates_and_test_set(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "models/lenet.pt",
        "models/lenet.json",
        "models/lenet.cue.pt",
        "models/resnet_mnist.pt",
        "models/resnet_mnist.cue.pt",
        "models/lenet5.pt",
        "models/shapes.pt",
        "models/shapes.json",
        "static/css/app.css",
        "templates/index.html",
        "templates/lab.html",
        "data/mnist/t10k-images-idx3-ubyte.gz",
    ):
        assert f"app/bundled/{shipped}" in names
    assert "app/web/app.py" in names and "app/core/capture.py" in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_installed_package_is_not_the_checkout(fresh_venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(fresh_venv / "bin" / "python"), "-c", "import app.paths as p; print(p.PACKAGE); print(p.MODELS_DIR)"],
        cwd=tmp_path,
        env=clean_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert all(not Path(w).is_relative_to(ROOT) for w in where)
    assert where[1].endswith("app/bundled/models")
    version = subprocess.run(
        [str(fresh_venv / "bin" / "convscope"), "--version"],
        cwd=tmp_path,
        env=clean_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert version.strip() == f"convscope {__version__}"


@pytest.fixture
def installed_server(fresh_venv: Path, tmp_path: Path) -> Iterator[str]:
    """`convscope serve` from the fresh venv, started in an empty directory."""
    port = free_port()
    proc = subprocess.Popen(
        [str(fresh_venv / "bin" / "convscope"), "serve", "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(proc, url, timeout=60)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout:
            proc.stdout.close()


def test_installed_server_serves_page_static_lab_docs_and_predicts(installed_server: str) -> None:
    with httpx.Client(base_url=installed_server, timeout=30) as api:
        page = api.get("/")
        assert page.status_code == 200 and 'data-testid="draw-pad"' in page.text
        assert api.get("/static/css/app.css").status_code == 200
        assert api.get("/lab").status_code == 200
        assert "swagger" in api.get("/docs").text.lower()
        r = api.post("/api/v1/predict?layers=", content=png(draw_digit("7")), headers={"content-type": "image/png"})
        assert r.status_code == 200 and r.json()["prediction"] == 7
        samples = api.get("/api/v1/samples").json()["samples"]
        assert len(samples) >= 10
