"""The package's layers: imports only point down (core ← training ← web ← cli)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
HTTP = ("fastapi", "starlette", "uvicorn", "multipart", "jinja2")
# What each layer may not import: anything above it, and (below web) nothing of HTTP.
FORBIDDEN = {
    "core": ("app.training", "app.web", "app.cli", *HTTP),
    "training": ("app.web", "app.cli", *HTTP),
    "web": ("app.training", "app.cli"),
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offending(layer: str) -> list[str]:
    """`file: module` for every import in a layer that points up or into HTTP."""
    bad = []
    for path in sorted((APP / layer).rglob("*.py")):
        for name in sorted(imported_modules(path)):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(APP.parent)}: {name}")
    return bad


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_only_point_down(layer: str) -> None:
    assert offending(layer) == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from app.web.errors import ApiError\nimport fastapi.responses\nfrom app.core import lab\n")
    names = imported_modules(bad)
    assert {"app.web.errors", "fastapi.responses"} <= names
    assert [n for n in names if any(n.startswith(f) for f in FORBIDDEN["core"])] != []


def test_core_loads_without_any_http_library() -> None:
    """Transitively too: importing every core and training module pulls in no web framework."""
    modules = [
        f"app.{p.parent.name}.{p.stem}"
        for layer in ("core", "training")
        for p in (APP / layer).glob("*.py")
        if p.stem != "__init__"
    ]
    code = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HTTP!r} or m.startswith('app.web')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
