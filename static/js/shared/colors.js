// Colour scales: diverging and centred on zero for signed values, with legends that print the range.
import { CONFIG } from "./config.js";

const { negative, zero, positive, ink, paper } = CONFIG.colors;

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** RGB for value v with symmetric range ±r: zero is white whatever the range, so signs read honestly. */
export function diverging(v, r) {
  if (!(r > 0)) return zero;
  const t = Math.max(-1, Math.min(1, v / r));
  return t >= 0 ? mix(zero, positive, t) : mix(zero, negative, -t);
}

/** Greyscale for the input image (0 black … 1 white), as MNIST shows it. */
export function greyscale(v) {
  return mix(paper, ink, Math.max(0, Math.min(1, v)));
}

export function maxAbs(data, start = 0, end = data.length) {
  let m = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(data[i]);
    if (a > m) m = a;
  }
  return m;
}

/** A legend element: gradient bar from −r to +r (or 0 to 1 for the input) with its numbers. */
export function legend(kind, r) {
  const el = document.createElement("div");
  el.className = "legend";
  const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2));
  if (kind === "input") {
    el.innerHTML = `<span>0</span><i class="bar grey"></i><span>1</span>`;
  } else {
    el.innerHTML = `<span>−${fmt(r)}</span><i class="bar div"></i><span>+${fmt(r)}</span>`;
  }
  el.title = kind === "input" ? "pixel intensity" : "blue negative · white zero · red positive";
  return el;
}
