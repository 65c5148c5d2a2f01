"""Output sizes of convolutions and pools, each with the formula a student can check by hand.

A convolution (and a pool in floor mode, which is what nn.MaxPool2d / nn.AvgPool2d do by default) keeps only the
windows that fit: ⌊(N + 2P − D·(F − 1) − 1) / S⌋ + 1, which for D = 1 is the textbook ((N − F + 2P) / S) + 1 rounded
down. A pool in ceil mode also keeps a last, partial window: ⌈(N + 2P − F) / S⌉ + 1, less one when that last window
would start in the right padding (at or after N + P), exactly as PyTorch does — N = 5, F = 2, S = 2, P = 1 gives 3.
"""

from __future__ import annotations

from typing import Any, Literal

PoolMode = Literal["floor", "ceil"]


class SizeError(ValueError):
    """A window that does not fit in the padded input."""


def _whole(v: float) -> str:
    return f"{v:g}" if v == int(v) else f"{v:.4g}"


def conv_size(n: int, f: int, p: int, s: int, d: int = 1, far: int | None = None) -> dict[str, Any]:
    """((N − F + 2P) / S) + 1 (with dilation D: F becomes D·(F − 1) + 1), floored as every framework does.

    `far` is the padding on the far side when it differs from p (PyTorch's 'same' with an even window)."""
    far = p if far is None else far
    reach = d * (f - 1) + 1
    span = n + p + far - reach
    if span < 0:
        raise SizeError(f"the {reach}-wide window does not fit in the {n + p + far}-wide padded input")
    value = span // s + 1
    exact = span % s == 0
    dilated = f"{d}·({f} − 1) + 1" if d != 1 else f"{f}"
    pads = f"2·{p}" if far == p else f"{p} + {far}"
    formula = f"(({n} − {dilated} + {pads}) / {s}) + 1 = {_whole(span / s + 1)}"
    if not exact:
        formula += (
            f" → {value}: not a whole number, so PyTorch (and 'valid' padding in other frameworks) rounds down; "
            f"the last {span % s} row(s)/column(s) of the padded input are never under the kernel's last step"
        )
    return {"n": n, "f": f, "p": p, "s": s, "d": d, "exact": exact, "value": value, "formula": formula}


def pool_size(n: int, f: int, p: int, s: int, mode: PoolMode, d: int = 1) -> dict[str, Any]:
    """A pool's output size in floor or ceil mode, with both formulas written out for these numbers."""
    reach = d * (f - 1) + 1
    span = n + 2 * p - reach
    if span < 0:
        raise SizeError(f"the {reach}×{reach} pooling window does not fit in the {n + 2 * p}-wide padded map")
    floor = span // s + 1
    ceil = -(-span // s) + 1
    dropped = (ceil - 1) * s >= n + p  # the last window would start in the right padding
    ceil_value = ceil - 1 if dropped else ceil
    dilated = f"{d}·({f} − 1) + 1" if d != 1 else f"{f}"
    base = f"({n} + 2·{p} − {dilated}) / {s}"
    floor_text = f"⌊{base}⌋ + 1 = ⌊{_whole(span / s)}⌋ + 1 = {floor}"
    ceil_text = f"⌈{base}⌉ + 1 = ⌈{_whole(span / s)}⌉ + 1 = {ceil}"
    if dropped:
        ceil_text += (
            f", less one: the last window would start at position {(ceil - 1) * s - p}, at or past N = {n}, "
            f"inside the right padding, so PyTorch drops it: {ceil_value}"
        )
    return {
        "n": n,
        "f": f,
        "p": p,
        "s": s,
        "d": d,
        "mode": mode,
        "value": floor if mode == "floor" else ceil_value,
        "floor": {"value": floor, "formula": floor_text},
        "ceil": {"value": ceil_value, "formula": ceil_text},
        "formula": floor_text if mode == "floor" else ceil_text,
    }
