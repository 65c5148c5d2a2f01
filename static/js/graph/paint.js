// Canvases of the graph page: one pixel per unit (CSS scales them, pixelated), signed values on the diverging
// scale centred on zero, the input as the model receives it (colour, or each channel in grey).
import { maxAbs } from "../shared/colors.js";
import { paintMap } from "../shared/heatmap.js";

const THUMB = 46; // CSS px of a thumbnail's longer side

/** CSS size of an H×W map whose longer side is `side` px. */
export function fitSize(h, w, side) {
  const s = side / Math.max(h, w);
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

/** Size a canvas to h×w units shown at css {width, height}. */
function shape(canvas, h, w, css) {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${css.width}px`;
  canvas.style.height = `${css.height}px`;
}

/** A vector of n values as a grid of about square cells: [rows, cols]. */
export function vectorGrid(n) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n * 4)));
  return [Math.ceil(n / cols), cols];
}

/** A thumbnail: the first channel of a map, or a whole vector; blank without values. */
export function paintThumb(canvas, thumb) {
  if (!thumb) {
    shape(canvas, 1, 1, { width: THUMB, height: THUMB });
    canvas.getContext("2d").clearRect(0, 0, 1, 1);
    return;
  }
  const [h, w] = thumb.shape.length === 3 ? [thumb.shape[1], thumb.shape[2]] : vectorGrid(thumb.shape[0]);
  shape(canvas, h, w, fitSize(h, w, THUMB));
  const n = thumb.shape.length === 3 ? h * w : thumb.shape[0];
  paintMap(canvas, thumb.data, 0, n, maxAbs(thumb.data, 0, n));
}

/** One map (channel c of a frame layer's data, H×W) at a CSS size; returns its symmetric range. */
export function paintChannel(canvas, data, offset, h, w, css) {
  shape(canvas, h, w, css);
  const range = maxAbs(data, offset, offset + h * w);
  paintMap(canvas, data, offset, h * w, range);
  return range;
}

/** A vector layer as a grid of cells at a CSS size. */
export function paintVector(canvas, data, css) {
  const [h, w] = vectorGrid(data.length);
  shape(canvas, h, w, css);
  const range = maxAbs(data);
  paintMap(canvas, data, 0, data.length, range);
  return range;
}

/** 0…1 display value of input channel c's value v: undo (x − mean) / std where the model has them. */
const shown = (v, c, info) => (info.std ? v * info.std[c] + info.mean[c] : v);

/** The model's input (C, H, W) as an image: RGB for 3 channels, grey otherwise (channel c, or the first). */
export function paintInput(canvas, data, dims, info, css, channel = null) {
  const [C, H, W] = dims;
  shape(canvas, H, W, css);
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(W, H);
  const px = img.data;
  const n = H * W;
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v * 255)));
  for (let i = 0; i < n; i++) {
    if (C === 3 && channel === null) {
      for (let c = 0; c < 3; c++) px[i * 4 + c] = clamp(shown(data[c * n + i], c, info));
    } else {
      const c = channel === null ? 0 : channel;
      const g = clamp(shown(data[c * n + i], c, info));
      px[i * 4] = g;
      px[i * 4 + 1] = g;
      px[i * 4 + 2] = g;
    }
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
