// The learned convolution kernels (weights) of a conv layer, one small heatmap per kernel slice.
import { legend, maxAbs } from "../shared/colors.js";
import { paintMap } from "../shared/heatmap.js";

function kernelCanvas(weights, offset, k, range, o, i) {
  const canvas = document.createElement("canvas");
  canvas.width = k;
  canvas.height = k;
  canvas.className = "kernel";
  canvas.title = `kernel for output channel ${o}, input channel ${i}`;
  paintMap(canvas, weights, offset, k * k, range);
  return canvas;
}

export function renderKernels(container, layer) {
  const [out, inC, k] = layer.weight_shape;
  const w = Float32Array.from(layer.weights);
  const r = maxAbs(w);
  const rows = [];
  for (let o = 0; o < out; o++) {
    const cells = [];
    for (let i = 0; i < inC; i++) cells.push(kernelCanvas(w, (o * inC + i) * k * k, k, r, o, i));
    const row = document.createElement("div");
    row.className = "kernel-row";
    const label = document.createElement("span");
    label.textContent = `→ ${o}`;
    row.append(label, ...cells);
    rows.push(row);
  }
  const head = document.createElement("p");
  head.className = "muted";
  head.textContent = `${out} output channels × ${inC} input channel${inC > 1 ? "s" : ""}, ${k}×${k} each, plus one bias per output channel.`;
  container.replaceChildren(head, legend("signed", r), ...rows);
}
