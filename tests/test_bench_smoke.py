"""The benchmark code runs (no timing is asserted here: targets are checked by `python -m bench.run`)."""

from __future__ import annotations

from bench import run
from bench.report import table


def test_capture_and_encoding_sections_run_and_report() -> None:
    results = {
        "when": "now",
        "quick": True,
        "machine": {"cpus": 2, "python": "3", "torch": "2"},
        "capture": run.bench_capture(quick=True),
        "encoding": run.bench_encoding(quick=True),
    }
    assert results["capture"]["capture_ratio"] > 0
    assert (
        results["encoding"]["binary"]["bytes"]
        < results["encoding"]["f32"]["bytes"]
        < results["encoding"]["json"]["bytes"]
    )
    text = table(results)
    assert "forward capturing every intermediate" in text and "browser path (binary) on the wire" in text


def test_explain_rows_mark_each_figure_against_its_target() -> None:
    from bench.explain import TARGETS
    from bench.report import _explain_rows

    rows = _explain_rows(
        {"seconds": {"lenet_gradient": 0.004, "resnet18_ig_32": 7.5, "lenet_smoothgrad_16": 0.01}, "targets": TARGETS}
    )
    assert rows[0] == "| explain: lenet_gradient | 4.0 ms | ≤ 20 ms | ✅ |"
    assert rows[1] == "| explain: resnet18_ig_32 | 7.50 s | ≤ 6 s | ❌ |"
    assert rows[2] == "| explain: lenet_smoothgrad_16 | 10.0 ms |  |  |"
