// Pure helpers of the explain page (no DOM): input values back to display pixels, which method needs which
// options, the layout of a layer's channels as tiles, a knock-out's per-layer summary, histogram bars.

/** Methods whose work grows with steps, samples or windows: run as jobs with progress and Cancel. */
export const LONG_METHODS = new Set(["integrated_gradients", "smoothgrad", "occlusion"]);

/** The option groups (data-for in the page) each method shows. */
export const METHOD_OPTIONS = {
  integrated_gradients: ["ig"],
  smoothgrad: ["smooth"],
  occlusion: ["occlusion"],
  gradcam: ["cam"],
  gradcam_pp: ["cam"],
};

/** The request fields of a method's options, read from a plain {name: value} object of the form's values. */
export function methodFields(method, form) {
  if (method === "integrated_gradients") {
    return { steps: Number(form.steps), baseline: form.baseline, precise: Boolean(form.precise) };
  }
  if (method === "smoothgrad") return { samples: Number(form.samples), noise: Number(form.noise) };
  if (method === "occlusion") return { window: Number(form.window), stride: Number(form.stride) };
  if ((method === "gradcam" || method === "gradcam_pp") && form.camLayer) return { layer: form.camLayer };
  return {};
}

/** The model's input values (flat, [C][H][W] row-major, normalised by mean/std when given) as [C][H][W] in 0..1. */
export function displayPixels(values, shape, mean = null, std = null) {
  const [c, h, w] = shape;
  const out = [];
  for (let k = 0; k < c; k++) {
    const m = mean ? mean[k] : 0;
    const s = std ? std[k] : 1;
    const rows = [];
    for (let y = 0; y < h; y++) {
      const row = new Array(w);
      for (let x = 0; x < w; x++) row[x] = Math.max(0, Math.min(1, values[(k * h + y) * w + x] * s + m));
      rows.push(row);
    }
    out.push(rows);
  }
  return out;
}

/** A crop [C][h][w] in the model's input space mapped to 0..1 for display. */
export function displayCrop(crop, mean = null, std = null) {
  return crop.map((rows, k) => rows.map((row) => row.map((v) => {
    const p = v * (std ? std[k] : 1) + (mean ? mean[k] : 0);
    return Math.max(0, Math.min(1, p));
  })));
}

/** Where each channel of a layer goes in one canvas: tiles of h×w units, each unit scale×scale pixels, 1-pixel gaps
 * (scale: whole pixels that make a tile about 40 wide); vectors as rows of ≤ 32. */
export function tileLayout(shape) {
  if (shape.length !== 3) {
    const n = shape[0];
    const cols = Math.min(32, n);
    const rows = Math.ceil(n / cols);
    const scale = Math.max(1, Math.floor(320 / cols));
    return { width: cols * scale, height: rows * scale, scale, tiles: [{ x: 0, y: 0, h: rows, w: cols, vector: true }] };
  }
  const [c, h, w] = shape;
  const scale = Math.max(1, Math.floor(40 / Math.max(h, w)));
  const [th, tw] = [h * scale + 1, w * scale + 1];
  const cols = Math.ceil(Math.sqrt(c));
  const rows = Math.ceil(c / cols);
  const tiles = [];
  for (let k = 0; k < c; k++) tiles.push({ x: (k % cols) * tw, y: Math.floor(k / cols) * th, h, w });
  return { width: cols * tw - 1, height: rows * th - 1, scale, tiles };
}

/** A knock-out's later layers as rows: name, changed of total units, the largest |difference|. */
export function knockoutRows(layers) {
  return layers.map((layer) => {
    const total = layer.shape.reduce((a, b) => a * b, 1);
    return { name: layer.name, changed: layer.changed, total, maxAbs: layer.max_abs_difference };
  });
}

/** The layer whose difference to show by default: the deepest map-shaped one after the knocked-out layer, else the last. */
export function defaultDifferenceLayer(layers) {
  const later = layers.slice(1);
  const maps = later.filter((l) => l.shape.length === 3 && l.shape[1] * l.shape[2] > 1);
  if (maps.length) return maps[maps.length - 1].name;
  return later.length ? later[later.length - 1].name : layers[0].name;
}

/** Histogram bars in a width×height box: [{x, y, w, h}] with the tallest bar at full height. */
export function histogramBars(counts, width, height) {
  const peak = Math.max(1, ...counts);
  const w = width / counts.length;
  return counts.map((n, i) => {
    const h = (n / peak) * height;
    return { x: i * w, y: height - h, w: Math.max(1, w - 1), h };
  });
}

/** x position of value v on a histogram over edges [e0 … en] drawn across width (clamped to the box). */
export function histogramX(v, edges, width) {
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  if (!(hi > lo)) return width / 2;
  return Math.max(0, Math.min(width, ((v - lo) / (hi - lo)) * width));
}

/** A unit index typed as "c, y, x" or "i": integers, or null when it is not one. */
export function parseIndex(text) {
  const parts = String(text).split(/[\s,]+/).filter(Boolean);
  if (!parts.length || parts.length > 3 || !parts.every((p) => /^\d+$/.test(p))) return null;
  return parts.map(Number);
}

/** Served models other than `current` that take the same input shape (a comparison runs one input through both). */
export function comparable(models, current) {
  const shape = current.input.shape.join("×");
  return models.filter((m) => m.name !== current.name && m.input.shape.join("×") === shape);
}

/** b − a, element by element. */
export function differences(a, b) {
  return Float32Array.from(a, (v, i) => b[i] - v);
}
