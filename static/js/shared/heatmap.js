// Heatmaps: values written straight into a canvas's pixels, one pixel per unit (CSS scales the canvas up).
import { diverging, greyscale } from "./colors.js";

/** Write n values from data[offset…] into the canvas: greyscale when range is null, else diverging over ±range. */
export function paintMap(canvas, data, offset, n, range) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(canvas.width, canvas.height);
  const px = img.data;
  for (let i = 0; i < n; i++) {
    const rgb = range === null ? greyscale(data[offset + i]) : diverging(data[offset + i], range);
    px[i * 4] = rgb[0];
    px[i * 4 + 1] = rgb[1];
    px[i * 4 + 2] = rgb[2];
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
