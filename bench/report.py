"""Render benchmark results as a readable Markdown table with the issue's targets."""

from __future__ import annotations

from typing import Any


def _row(what: str, value: str, target: str = "", ok: bool | None = None) -> str:
    mark = "" if ok is None else ("✅" if ok else "❌")
    return f"| {what} | {value} | {target} | {mark} |"


def table(r: dict[str, Any]) -> str:
    lines = [
        f"# convscope benchmark — {r['when']}{' (quick)' if r.get('quick') else ''}",
        "",
        f"Machine: {r['machine']['cpus']} CPUs, Python {r['machine']['python']}, torch {r['machine']['torch']}",
        "",
        "| measure | value | target | |",
        "|---|---|---|---|",
    ]
    if "graph" in r:
        lines += _graph_rows(r["graph"])
    if "explain" in r:
        lines += _explain_rows(r["explain"])
    if "photos" in r:
        p = r["photos"]
        lines.append(
            _row(
                f"{p['model']}: phone-style photos vs clean renders ({p['count']} digits)",
                f"{p['photo']['accuracy']:.2%} vs {p['clean']['accuracy']:.2%} ({p['gap_points']:+.2f} points)",
                "gap ≤ 1 point",
                p["gap_points"] <= 1.0,
            )
        )
    if "capture" in r:
        c = r["capture"]
        lines.append(_row("plain forward, batch 1", f"{c['plain_forward_ms']:.3f} ms"))
        lines.append(
            _row(
                "forward capturing every intermediate",
                f"{c['capture_all_ms']:.3f} ms (×{c['capture_ratio']:.3f})",
                "≤ ×1.2",
                c["capture_ratio"] <= 1.2,
            )
        )
        if c.get("torchlens_ms"):
            lines.append(
                _row(
                    f"TorchLens {c['torchlens_version']} capture of the same",
                    f"{c['torchlens_ms']:.1f} ms (×{c['torchlens_vs_capture']:.0f} ours)",
                )
            )
    if "encoding" in r:
        e = r["encoding"]
        for name in ("json", "f32", "binary"):
            lines.append(
                _row(
                    f"encode full predict: {name}",
                    f"{e[name]['bytes'] / 1024:.1f} KB "
                    f"(gzip-1 {e[name]['gzip_1_bytes'] / 1024:.1f} KB), {e[name]['ms']:.3f} ms",
                )
            )
        n = e["naive_tolist_json"]
        lines.append(_row("naive tolist + json.dumps", f"{n['bytes'] / 1024:.1f} KB, {n['ms']:.2f} ms"))
        lines.append(
            _row(
                "browser path (binary) on the wire",
                f"{e['binary']['bytes'] / 1024:.1f} KB",
                "≤ 80 KB",
                e["binary"]["bytes"] <= 80 * 1024,
            )
        )
    if "http" in r:
        h = r["http"]
        lines.append(
            _row(
                "load generator",
                f"{h['load_generator']}, {h['connections']} connections, "
                f"{h.get('rounds', 1)} interleaved rounds of {h['seconds']} s per case (median)",
            )
        )
        for workers, cases in h["workers"].items():
            for label, v in cases.items():
                lines.append(
                    _row(
                        f"{workers} worker{'s' if workers != '1' else ''}: {label}",
                        f"{v['rps']:.0f} req/s, p50 {v['p50_ms']:.2f} ms, p99 {v['p99_ms']:.2f} ms",
                    )
                )
        nv = h["naive_full_json"]
        lines.append(_row("naive reference, full json", f"{nv['rps']:.0f} req/s, p50 {nv['p50_ms']:.1f} ms"))
        for label, ratio in h["full_vs_predict_only"].items():
            if label.startswith("full"):
                lines.append(_row(f"{label} / predict-only", f"{ratio:.0%}", "≥ 80 %", ratio >= 0.8))
        lines.append(
            _row(
                "full binary PNG / predict-only PNG",
                f"{h['full_png_vs_predict_only_png']:.0%}",
                "≥ 80 %",
                h["full_png_vs_predict_only_png"] >= 0.8,
            )
        )
        for label, ratio in h["vs_naive"].items():
            lines.append(_row(f"{label} / naive", f"×{ratio:.1f}", "≥ ×20", ratio >= 20))
        for label, ratio in h["two_workers_vs_one"].items():
            lines.append(_row(f"2 workers / 1: {label}", f"×{ratio:.2f}", "≥ ×1.7", ratio >= 1.7))
    if "browser" in r:
        b = r["browser"]
        m, hv = b["move_to_repaint_ms"], b["hover_to_highlight_ms"]
        lines.append(
            _row(
                "pointer move → all layers repainted",
                f"p50 {m['p50']:.1f} ms, p95 {m['p95']:.1f} ms",
                "p95 ≤ 50 ms",
                m["p95"] <= 50,
            )
        )
        lines.append(
            _row(
                "hover → receptive-field highlight",
                f"p50 {hv['p50']:.1f} ms, p95 {hv['p95']:.1f} ms",
                "p95 ≤ 16 ms",
                hv["p95"] <= 16,
            )
        )
    if "page" in r:
        lines += _page_rows(r["page"])
    if "memory" in r:
        mem = r["memory"]
        lines.append(
            _row(
                f"RSS over {mem['requests']} requests ({mem['errors']} errors)",
                f"{mem['rss_before_kib'] / 1024:.0f} → {mem['rss_after_kib'] / 1024:.0f} MiB ({mem['growth']:+.1%})",
                "< 10 %",
                mem["growth"] < 0.10,
            )
        )
    if "reliability" in r:
        lines.extend(_reliability_rows(r["reliability"]))
    return "\n".join(lines) + "\n"


def _page_rows(p: dict[str, Any]) -> list[str]:
    """The graph page on the ResNet-18-shaped net at 3×224×224 in headless Chromium."""
    f, h = p["first_paint_ms"], p["hover_to_highlight_ms"]
    growth = p["heap_growth_after_5"]
    return [
        _row(
            f"graph page: upload → first paint, ResNet-18 224 ({p['uploads']} uploads)",
            f"first {f['first']:.0f} ms, p50 {f['p50']:.0f} ms, p95 {f['p95']:.0f} ms",
            "≤ 1.5 s",
            f["p95"] <= 1500,
        ),
        _row("graph page: first response", f"{p['first_response_bytes'] / 1024:.0f} KiB", "≤ 1 MB",
             p["first_response_bytes"] <= 1_000_000),
        _row(
            f"graph page: later layer fetches ({p['layer_fetches']}), bytes / the layers' float32 size",
            f"max ×{p['layer_fetch_max_ratio_to_f32']:.3f} (of the channel slice asked: "
            f"×{p['layer_fetch_max_ratio_to_f32_of_slice']:.2f})",
            "≤ ×1",
            p["layer_fetch_max_ratio_to_f32"] <= 1,
        ),
        _row("graph page: hover → node highlight", f"p50 {h['p50']:.1f} ms, p95 {h['p95']:.1f} ms", "p95 ≤ 16 ms",
             h["p95"] <= 16),
        _row(
            f"graph page: JS heap after GC, upload 5 → {p['uploads']}",
            f"{p['heap_bytes']['after_5'] / 1e6:.2f} → {p['heap_bytes']['after_all'] / 1e6:.2f} MB ({growth:+.1%})",
            "stable (< 10 %)",
            abs(growth) < 0.10,
        ),
    ]  # fmt: skip


def _graph_rows(g: dict[str, Any]) -> list[str]:
    """API v2's engine: capture ratios, a ResNet-18 prediction against forward + decode, memory over uploads."""
    rows = []
    for name, target in (("lenet", 1.3), ("resnet18", 1.1)):
        v = g[name]
        rows.append(
            _row(
                f"v2 graph capture, {name}, vs eager forward",
                f"{v['capture_ms']:.3f} ms vs {v['forward_ms']:.3f} ms (×{v['ratio']:.3f})",
                f"≤ ×{target}",
                v["ratio"] <= target,
            )
        )
    p = g["resnet18_predict"]
    rows.append(
        _row(
            "v2 predict, ResNet-18 224, layers none, vs forward + decode",
            f"{p['predict_ms']:.1f} ms vs {p['forward_decode_ms']:.1f} ms (×{p['ratio']:.3f})",
            "≤ ×1.2",
            p["ratio"] <= 1.2,
        )
    )
    m = g["memory"]
    rows.append(
        _row(
            f"server RSS over {m['uploads']} distinct ResNet-18 uploads (after the first fifth)",
            f"{m['growth']:+.1%}",
            "flat (< 5 %)",
            abs(m["growth"]) < 0.05,
        )
    )
    return rows


def _reliability_rows(rel: dict[str, Any]) -> list[str]:
    """The flood, restart, drain and soak figures (bench.reliability)."""
    f, rs, d = rel["flood"], rel["restart"], rel["drain"]
    rows = [
        _row(
            f"/healthz p99 while {f['clients']} clients post costly images",
            f"{f['healthz_p99_ms']} ms (p50 {f['healthz_p50_ms']})",
            "≤ 50 ms",
            f["healthz_p99_ms"] <= 50,
        ),
        _row(
            "slowest costly request, answers",
            f"{f['costly_slowest_s']} s, {f['costly_statuses']}",
            "≤ 10 s; 200/413/422/503",
            f["costly_slowest_s"] <= 10 and not f["costly_errors"],
        ),
        _row(
            "throughput back to ≥ 90 % after a worker is killed",
            f"{rs['seconds_to_90_percent']} s",
            "≤ 10 s",
            rs["seconds_to_90_percent"] is not None and rs["seconds_to_90_percent"] <= 10,
        ),
        _row(f"SIGTERM under {d['clients']} clients: dropped", str(d["dropped"]), "0", d["dropped"] == 0),
    ]
    if "soak" in rel:
        k = rel["soak"]
        rows.append(
            _row(
                f"soak {k['seconds']:.0f} s, good + hostile: errors, RSS",
                f"{k['good_errors']} of {k['good_requests']}, {k['rss_growth']:+.1%}",
                "0, < 10 %",
                k["good_errors"] == 0 and k["rss_growth"] < 0.10,
            )
        )
    return rows


def _explain_rows(e: dict[str, Any]) -> list[str]:
    """Issue 17: attribution server time and the data-set pass, against the issue's targets where it sets one."""
    rows = []
    for name, seconds in e["seconds"].items():
        target = e["targets"].get(name)
        value = f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
        if target is None:
            rows.append(_row(f"explain: {name}", value))
        else:
            limit = f"≤ {target * 1e3:.0f} ms" if target < 1 else f"≤ {target:.0f} s"
            rows.append(_row(f"explain: {name}", value, limit, seconds <= target))
    return rows
