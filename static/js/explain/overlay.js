// The attribution drawn over the input: the digit in grey, the signed attribution in the diverging scale on top.
import { diverging, greyscale, legend, maxAbs } from "../shared/colors.js";

/** Paint input (H×W, 0..1) and attribution (H×W, signed) blended into the canvas, scaled up by whole pixels. */
export function paintOverlay(canvas, input, attribution) {
  const h = input.length;
  const w = input[0].length;
  const flat = attribution.flat();
  const r = maxAbs(flat);
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = greyscale(input[y][x]);
      const heat = diverging(attribution[y][x], r);
      const a = r > 0 ? Math.min(1, Math.abs(attribution[y][x]) / r) * 0.85 : 0;
      const i = (y * w + x) * 4;
      for (let k = 0; k < 3; k++) img.data[i + k] = base[k] * (1 - a) + heat[k] * a;
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  canvas.dataset.range = String(r);
  return legend("signed", r);
}

/** Paint a [C][h][w] crop (C = 1: grey; C = 3: colour) into a canvas of its own size. */
export function paintPixels(canvas, channels) {
  const h = channels[0].length;
  const w = channels[0][0].length;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      for (let k = 0; k < 3; k++) {
        const v = channels[channels.length === 3 ? k : 0][y][x];
        img.data[i + k] = Math.max(0, Math.min(255, v * 255));
      }
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}
