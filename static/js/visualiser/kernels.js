// The learned convolution kernels (weights) of a conv layer, one small heatmap per kernel slice.
import { diverging, legend, maxAbs } from "../shared/colors.js";

export function renderKernels(container, layer) {
  const [out, inC, k] = layer.weight_shape;
  const w = Float32Array.from(layer.weights);
  const r = maxAbs(w);
  const rows = [];
  for (let o = 0; o < out; o++) {
    const cells = [];
    for (let i = 0; i < inC; i++) {
      const canvas = document.createElement("canvas");
      canvas.width = k;
      canvas.height = k;
      canvas.className = "kernel";
      canvas.title = `kernel for output channel ${o}, input channel ${i}`;
      const ctx = canvas.getContext("2d");
      const img = ctx.createImageData(k, k);
      for (let j = 0; j < k * k; j++) {
        const rgb = diverging(w[((o * inC + i) * k * k) + j], r);
        img.data.set([rgb[0], rgb[1], rgb[2], 255], j * 4);
      }
      ctx.putImageData(img, 0, 0);
      cells.push(canvas);
    }
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
