// Canvases of the explain page: the input with the attribution over it, signed maps in the diverging scale
// (zero white, ±range at the ends), colour or grey crops, and a layer's channels as tiles.
import { diverging, greyscale, maxAbs } from "../shared/colors.js";
import { paintMap } from "../shared/heatmap.js";
import { tileLayout } from "./logic.js";

const GAP = [128, 128, 128];

function image(canvas, w, h) {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  return { ctx, img: ctx.createImageData(w, h) };
}

/** RGB of input pixel (y, x) from [C][H][W] in 0..1: grey for one channel, colour for three. */
function inputRgb(pixels, y, x) {
  if (pixels.length === 3) return [pixels[0][y][x] * 255, pixels[1][y][x] * 255, pixels[2][y][x] * 255];
  return greyscale(pixels[0][y][x]);
}

/** The input ([C][H][W], 0..1) with the signed attribution ([H][W]) over it: opaque where |a| reaches the range r. */
export function paintOverlay(canvas, pixels, attribution, r) {
  const h = pixels[0].length;
  const w = pixels[0][0].length;
  const { ctx, img } = image(canvas, w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = inputRgb(pixels, y, x);
      const v = attribution[y][x];
      const heat = diverging(v, r);
      const a = r > 0 ? Math.min(1, Math.abs(v) / r) * 0.85 : 0;
      const i = (y * w + x) * 4;
      for (let k = 0; k < 3; k++) img.data[i + k] = base[k] * (1 - a) + heat[k] * a;
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  canvas.dataset.range = String(r);
}

/** A signed [H][W] map alone in the diverging scale over ±r (r: its own largest |value| when not given). */
export function paintSigned(canvas, map, r = null) {
  const flat = map.flat();
  const range = r === null ? maxAbs(flat) : r;
  canvas.width = map[0].length;
  canvas.height = map.length;
  paintMap(canvas, flat, 0, flat.length, range);
  canvas.dataset.range = String(range);
  return range;
}

/** A [C][h][w] image in 0..1 (C = 1: grey; C = 3: colour) into a canvas of its own size. */
export function paintPixels(canvas, channels) {
  const h = channels[0].length;
  const w = channels[0][0].length;
  const { ctx, img } = image(canvas, w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const rgb = inputRgb(channels, y, x);
      const i = (y * w + x) * 4;
      for (let k = 0; k < 3; k++) img.data[i + k] = Math.max(0, Math.min(255, rgb[k]));
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** A layer's values (flat, row-major, of shape [C,H,W] or [N]) as channel tiles in the diverging scale over ±r. */
export function paintTiles(canvas, flat, shape, r) {
  const layout = tileLayout(shape);
  const { ctx, img } = image(canvas, layout.width, layout.height);
  for (let i = 0; i < img.data.length; i += 4) img.data.set([...GAP, 255], i); // the gaps between tiles
  const s = layout.scale;
  let offset = 0;
  for (const tile of layout.tiles) {
    const n = tile.vector ? flat.length : tile.h * tile.w;
    for (let j = 0; j < n; j++) {
      const rgba = [...diverging(flat[offset + j], r), 255];
      const x0 = tile.x + (j % tile.w) * s;
      const y0 = tile.y + Math.floor(j / tile.w) * s;
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) img.data.set(rgba, ((y0 + dy) * layout.width + x0 + dx) * 4);
      }
    }
    offset += n;
  }
  ctx.putImageData(img, 0, 0);
  canvas.dataset.range = String(r);
  canvas.dataset.scale = String(s);
}
