"""Bringing a model: torch.export files (pickled payloads refused), factories with weights, in-memory modules."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import torch

from app.core.graph import GraphError
from app.core.models import ModelSpec, load, load_exported, parse_shape, pickled_payloads
from app.core.weights import WeightsError
from tests.support import nets

FACTORY = """
import torch
from tests.support import nets

def make_net():
    net, _ = nets.build("dilated")
    return net

make_net.example_input = torch.zeros(1, 2, 15, 12)
"""


def save_pt2(tmp_path: Path, name: str = "dilated", dynamic: bool = True) -> Path:
    net, x = nets.build(name)
    if dynamic:
        program = torch.export.export(net, (torch.cat([x, x]),), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},))
    else:
        program = torch.export.export(net, (x,))
    path = tmp_path / f"{name}.pt2"
    torch.export.save(program, path)
    return path


class _Boom:
    def __reduce__(self):  # pickled code that would run on an unsafe load
        return (Path("/tmp/convscope-pt2-pwned").write_text, ("pwned",))


def test_a_pt2_loads_and_equals_the_eager_model(tmp_path: Path) -> None:
    path = save_pt2(tmp_path)
    assert pickled_payloads(path) == []
    model = load(ModelSpec(source=str(path), labels=None))
    net, x = nets.build("dilated")
    with torch.no_grad():
        assert torch.allclose(model.graph.capture(x)[model.graph.output], net(x), atol=1e-6)
    assert model.graph.batch and model.source == "export" and model.name == "dilated"
    (tmp_path / "static").mkdir()
    static = load(ModelSpec(source=str(save_pt2(tmp_path / "static", dynamic=False))))
    assert not static.graph.batch
    two = torch.cat([x, x * 2])
    assert torch.allclose(static.graph.capture(two)[static.graph.output][1], net(x * 2)[0], atol=1e-6)


def test_pickled_payloads_are_refused_unless_trusted(tmp_path: Path) -> None:
    path = save_pt2(tmp_path)
    planted = tmp_path / "planted.pt2"
    buffer = io.BytesIO()
    torch.save({"evil": _Boom()}, buffer)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(planted, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, buffer.getvalue() if item.filename.endswith("sample_inputs/model.pt") else data)
    marker = Path("/tmp/convscope-pt2-pwned")
    marker.unlink(missing_ok=True)
    assert pickled_payloads(planted), "the planted pickle is found"
    with pytest.raises(GraphError, match=r"pickled payloads.*--trust"):
        load_exported(planted)
    assert not marker.exists()


def test_a_factory_with_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "mynets.py"
    source.write_text(FACTORY)
    net, x = nets.build("dilated", seed=3)
    weights = tmp_path / "w.pt"
    torch.save(net.state_dict(), weights)
    model = load(ModelSpec(source=f"{source}:make_net", weights=str(weights), name="mine"))
    with torch.no_grad():
        assert torch.allclose(model.graph.capture(x)[model.graph.output], net(x), atol=1e-6)
    assert model.graph.input_shape == (2, 15, 12) and model.source == "factory" and model.sha256
    monkeypatch.syspath_prepend(str(tmp_path))
    by_module = load(ModelSpec(source="mynets:make_net", input="2x15x12"))
    assert by_module.name == "make_net"


def test_factory_failures_say_what_to_do(tmp_path: Path) -> None:
    source = tmp_path / "nets_bad.py"
    source.write_text(FACTORY.replace("make_net.example_input", "_unused"))
    with pytest.raises(GraphError, match="--input CxHxW"):
        load(ModelSpec(source=f"{source}:make_net"))
    with pytest.raises(GraphError, match="has no 'nothing'"):
        load(ModelSpec(source=f"{source}:nothing", input="2x15x12"))
    with pytest.raises(GraphError, match=r"package\.module:factory"):
        load(ModelSpec(source="no_colon_here"))
    wrong = tmp_path / "wrong.pt"
    torch.save({"conv1.weight": torch.zeros(1)}, wrong)
    with pytest.raises(WeightsError, match="do not load"):
        load(ModelSpec(source=f"{source}:make_net", input="2x15x12", weights=str(wrong)))
    with pytest.raises(GraphError, match="write it as CxHxW"):
        parse_shape("224x224")


def test_labels_must_match_the_output(tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"c{i}" for i in range(7)))
    with pytest.raises(GraphError, match="7 labels given"):
        load(ModelSpec(source=str(save_pt2(tmp_path, "colour_lenet")), labels=str(labels)))


def test_lenet5_says_what_differs_from_1998() -> None:
    from app.core.architectures import DESCRIPTIONS, lenet5

    text = DESCRIPTIONS["lenet5"]
    assert text.startswith("LeNet-5-style")
    for difference in ("1.7159·tanh", "trainable coefficient", "connection table", "RBF"):
        assert difference in text and difference.split("·")[0] in (lenet5.__doc__ or "")
