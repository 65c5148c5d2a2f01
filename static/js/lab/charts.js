// A small line chart on a canvas: series over a shared x axis (0…1), a y range that includes every value drawn
// (and the marked point), labelled ends, and a dashed marker at the current x with each series' value there.
import { PALETTE } from "../shared/colors.js";

const PAD = 30;
const TOP = 36; // room above the plot for the y label and the legend

/** The y range [lo, hi] covering every series and the extra values, with zero included. */
export function yRange(series, extra = []) {
  const all = [0, ...extra, ...series.flatMap((s) => s.ys)].filter(Number.isFinite);
  return [Math.min(...all), Math.max(...all)];
}

function axes(ctx, w, h, [lo, hi], { xLabel, yLabel }) {
  ctx.strokeStyle = PALETTE.chartAxis;
  ctx.beginPath();
  ctx.moveTo(PAD, TOP);
  ctx.lineTo(PAD, h - PAD);
  ctx.lineTo(w - PAD / 2, h - PAD);
  ctx.stroke();
  ctx.fillStyle = PALETTE.chartText;
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(xLabel, w - 120, h - 8);
  ctx.fillText("0", PAD - 4, h - 16);
  ctx.fillText("1", w - PAD - 4, h - 16);
  ctx.fillText(`${yLabel}: ${lo.toFixed(2)} … ${hi.toFixed(2)}`, PAD + 4, 12);
}

/**
 * Draw series [{ys, color, name}] over xs (0…1). marker: the current x, with [{y, color}] points to circle.
 * Returns the y range drawn, so a test or caption can say what the chart shows.
 */
export function lineChart(canvas, { xs, series, marker = null, xLabel = "", yLabel = "" }) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  const [lo, hi] = yRange(series, marker ? marker.points.map((p) => p.y) : []);
  const span = hi - lo || 1;
  const px = (x) => PAD + x * (w - 1.5 * PAD);
  const py = (y) => h - PAD - ((y - lo) / span) * (h - PAD - TOP);
  ctx.clearRect(0, 0, w, h);
  axes(ctx, w, h, [lo, hi], { xLabel, yLabel });
  series.forEach(({ ys, color, name }, k) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    xs.forEach((x, i) => (i ? ctx.lineTo(px(x), py(ys[i])) : ctx.moveTo(px(x), py(ys[i]))));
    ctx.stroke();
    ctx.fillStyle = color;
    ctx.fillText(`— ${name}`, PAD + 4 + k * ((w - PAD) / series.length), 28);
  });
  if (marker) {
    ctx.strokeStyle = PALETTE.chartMarker;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(px(marker.x), TOP);
    ctx.lineTo(px(marker.x), h - PAD);
    ctx.stroke();
    ctx.setLineDash([]);
    for (const p of marker.points) {
      ctx.strokeStyle = p.color;
      ctx.beginPath();
      ctx.arc(px(marker.x), py(p.y), 4, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
  canvas.dataset.yMax = String(hi);
  canvas.dataset.yMin = String(lo);
  return [lo, hi];
}
