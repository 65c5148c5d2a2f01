// What the lab prints about a /lab/convolve result: the output-size formulas, one cell's multiply-and-add, one
// pooling window, the flattened list. Pure functions of the result: every server value is escaped here.
import { esc } from "../shared/escape.js";
import { compact as fmt } from "../shared/format.js";
import { flatIndex, unravel } from "../shared/geometry.js";

const FLAT_SHOWN = 200; // the flattened list prints its first 200 numbers

/** Marks for a window [y0, x0, y1, x1] (inclusive), plus an optional winner cell. */
export function windowMarks([y0, x0, y1, x1], winner = null) {
  const marks = {};
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) marks[`${y},${x}`] = "in-window";
  if (winner) marks[`${winner[0]},${winner[1]}`] = "winner";
  return marks;
}

/** Marks for the padding ring, p cells wide, around an h × w padded input. */
export function paddingMarks([h, w], p) {
  const marks = {};
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) if (y < p || x < p || y >= h - p || x >= w - p) marks[`${y},${x}`] = "pad";
  }
  return marks;
}

/** The output size: both formulas and the feature map's size. */
export function outputSizeHtml({ rows, cols }) {
  return `rows: ${esc(rows.formula)}<br>columns: ${esc(cols.formula)}<br>
      feature map: <b data-role="size">${esc(rows.value)}×${esc(cols.value)}</b>`;
}

/** The flattened vector: where it comes from, in which order, and its first numbers. */
export function flatHtml({ values, source, order }) {
  const more = values.length > FLAT_SHOWN ? `<p class="muted">… ${values.length - FLAT_SHOWN} more</p>` : "";
  return `<p class="muted">${values.length} numbers from the ${esc(source)} map,
      ${esc(order)}</p><ol class="flat-list" start="0">${values.slice(0, FLAT_SHOWN).map((v) =>
      `<li>${esc(fmt(v))}</li>`).join("")}</ol>${more}`;
}

/** Feature-map cell (y, x): its window on the padded input and the products that add up to its value. */
export function explainConv(result, y, x) {
  const s = result.stride;
  const k = result.kernel.values;
  const f = k.length;
  const window = [y * s, x * s, y * s + f - 1, x * s + f - 1];
  const terms = [];
  let sum = 0;
  for (let i = 0; i < f; i++) {
    for (let j = 0; j < f; j++) {
      const v = result.padded.values[window[0] + i][window[1] + j];
      sum += v * k[i][j];
      if (f <= 3 || (v !== 0 && k[i][j] !== 0)) terms.push(`${fmt(v)}×${fmt(k[i][j])}`);
    }
  }
  const total = sum + result.bias;
  const value = result.feature_map.values[y][x];
  const products = terms.length ? terms.join(" + ") : "all products are 0";
  const left = f > 3 ? " (zero products left out)" : "";
  const html = `<p><b>feature map [${y}, ${x}]</b> — the kernel over padded input rows
      ${window[0]}…${window[2]}, columns ${window[1]}…${window[3]} (stride ${esc(s)}: ${y}·${esc(s)}, ${x}·${esc(s)}).</p>
      <p class="eq">${esc(products)}${left} + bias ${esc(fmt(result.bias))}
      = <b data-role="sum" data-value="${esc(total)}">${esc(fmt(total))}</b>
      <span class="muted">(server: <span data-role="value" data-value="${esc(value)}">${esc(fmt(value))}</span>)</span></p>`;
  return { window, html };
}

/** Pooled cell (y, x): its window on the activated map, the winner (max pooling) and the pooled value. */
export function explainPool(result, y, x) {
  const p = result.pooled;
  const i = flatIndex(p.shape, [y, x]);
  const window = p.windows[i];
  const winner = p.winners ? unravel(result.activated.shape, p.winners[i]) : null;
  const cells = [];
  for (let r = window[0]; r <= window[2]; r++) {
    for (let c = window[1]; c <= window[3]; c++) cells.push(result.activated.values[r][c]);
  }
  const [h, w] = [window[2] - window[0] + 1, window[3] - window[1] + 1];
  const partial = h < p.size || w < p.size ? " (a partial window past the edge: its cells are pooled as they are)" : "";
  const value = p.values[y][x];
  const where = `rows ${esc(window[0])}…${esc(window[2])}, columns ${esc(window[1])}…${esc(window[3])}`;
  const html = `<p><b>pooled [${y}, ${x}]</b> — ${esc(p.type)} of the ${h}×${w} window at ${where}${partial}.</p>
      <p class="eq">${esc(p.type)}(${esc(cells.map(fmt).join(", "))}) =
      <b data-role="value" data-value="${esc(value)}">${esc(fmt(value))}</b></p>`;
  return { window, winner, html };
}

/** The pooled map's caption: type, window, stride and shape. */
export function poolCaption(pooled) {
  return `${pooled.type} pooled ${pooled.size}×${pooled.size}, stride ${pooled.stride}: ${pooled.shape.join("×")}`;
}
