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
