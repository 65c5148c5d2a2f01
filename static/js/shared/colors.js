// Colour scales and every colour the scripts paint with: diverging and centred on zero for signed values,
// greyscale for the input, legends that print the range honestly.
import { rangeEnd } from "./format.js";

/** RGB triples and CSS colours; app.css keeps only the page's theme colours. */
export const PALETTE = {
  // Diverging scale for signed values: blue (negative) → white (zero) → red (positive).
  negative: [49, 104, 196],
  zero: [255, 255, 255],
  positive: [214, 69, 40],
  // Input pixels as MNIST shows them: light ink on black.
  ink: [255, 255, 255],
  paper: [0, 0, 0],
  // The drawing pad: dark ink on light paper.
  padInk: "#111",
  padPaper: "#fff",
  rayNeutral: "rgba(90, 90, 90, 0.35)", // rays whose weight is not known
  chartAxis: "#999",
  chartText: "#555",
  chartMarker: "#111",
};

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** RGB for value v with symmetric range ±r: zero is white whatever the range, so signs read honestly. */
export function diverging(v, r) {
  if (!(r > 0)) return PALETTE.zero;
  const t = Math.max(-1, Math.min(1, v / r));
  return t >= 0 ? mix(PALETTE.zero, PALETTE.positive, t) : mix(PALETTE.zero, PALETTE.negative, -t);
}

/** Greyscale for the input image (0 black … 1 white), as MNIST shows it. */
export function greyscale(v) {
  return mix(PALETTE.paper, PALETTE.ink, Math.max(0, Math.min(1, v)));
}

/** CSS colour for an RGB triple (channels truncated to integers), with an optional alpha. */
export function rgbCss([r, g, b], alpha = null) {
  return alpha === null ? `rgb(${r | 0},${g | 0},${b | 0})` : `rgba(${r | 0},${g | 0},${b | 0},${alpha})`;
}

/** Largest |value| of data[start…end): the symmetric range that keeps zero white. */
export function maxAbs(data, start = 0, end = data.length) {
  let m = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(data[i]);
    if (a > m) m = a;
  }
  return m;
}

/** What a legend shows: its two end labels, the gradient of its bar and its tooltip. */
export function legendSpec(kind, r) {
  if (kind === "input") {
    return { low: "0", high: "1", gradient: `linear-gradient(90deg, ${rgbCss(PALETTE.paper)}, ${rgbCss(PALETTE.ink)})`,
      title: "pixel intensity" };
  }
  const { negative, zero, positive } = PALETTE;
  return { low: `−${rangeEnd(r)}`, high: `+${rangeEnd(r)}`,
    gradient: `linear-gradient(90deg, ${rgbCss(negative)}, ${rgbCss(zero)}, ${rgbCss(positive)})`,
    title: "blue negative · white zero · red positive" };
}

/** A legend element: gradient bar from −r to +r (or 0 to 1 for the input) with its numbers. */
export function legend(kind, r) {
  const spec = legendSpec(kind, r);
  const el = document.createElement("div");
  el.className = "legend";
  el.title = spec.title;
  const [low, bar, high] = [document.createElement("span"), document.createElement("i"), document.createElement("span")];
  low.textContent = spec.low;
  high.textContent = spec.high;
  bar.className = "bar";
  bar.style.background = spec.gradient;
  el.append(low, bar, high);
  return el;
}
