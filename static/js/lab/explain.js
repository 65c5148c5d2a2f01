// What the lab prints about one cell of a /api/v2/lab/convolve answer: a feature-map cell's multiply-and-add over
// every input channel, and a pooled cell's window, winner or divisor. Pure functions; every value is escaped here.
// Coordinates follow API v2: cells [y, x]; windows {rows: [start, stop], cols: [start, stop]}, half-open.
import { boxCells, boxShape, boxText, shiftBox } from "../shared/box.js";
import { esc } from "../shared/escape.js";
import { compact as fmt } from "../shared/format.js";

const TERMS_SHOWN = 12; // products listed per channel (zero products are left out of longer lists)

/** Marks for the cells of a box on a map drawn with `offset` cells of padding, plus an optional winner [y, x]. */
export function boxMarks(box, winner = null, offset = 0) {
  const marks = {};
  for (const [y, x] of boxCells(shiftBox(box, [offset, offset]))) marks[`${y},${x}`] = "in-window";
  if (winner) marks[`${winner[0] + offset},${winner[1] + offset}`] = "winner";
  return marks;
}

/** Marks for a list of cells [y, x] (a dilated kernel's taps are not one box). */
export function cellMarks(cells, cls = "in-window") {
  return Object.fromEntries(cells.map(([y, x]) => [`${y},${x}`, cls]));
}

/** Marks for the padding ring, p cells wide, around an h × w padded input. */
export function paddingMarks([h, w], p) {
  const marks = {};
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) if (y < p || x < p || y >= h - p || x >= w - p) marks[`${y},${x}`] = "pad";
  }
  return marks;
}

/** The cells of the padded input under feature-map cell (y, x): rows y·S + i·D and columns x·S + j·D. */
export function convTaps({ kernel, stride, dilation }, y, x) {
  const f = kernel[0].length;
  const rows = Array.from({ length: f }, (_, i) => y * stride + i * dilation);
  const cols = Array.from({ length: f }, (_, j) => x * stride + j * dilation);
  return { rows, cols, cells: rows.flatMap((r) => cols.map((c) => [r, c])) };
}

/** One channel's products under the kernel slice: the terms to print and their sum. */
function channelProducts(plane, slice, rows, cols) {
  const terms = [];
  let sum = 0;
  rows.forEach((r, i) => cols.forEach((c, j) => {
    const v = plane[r][c];
    sum += v * slice[i][j];
    terms.push({ v, w: slice[i][j] });
  }));
  const nonzero = terms.filter((t) => t.v !== 0 && t.w !== 0);
  const shown = terms.length <= 9 ? terms : nonzero.slice(0, TERMS_SHOWN);
  const signed = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));
  const text = shown.length ? shown.map((t) => `${signed(t.v)}×${signed(t.w)}`).join(" + ") : "all products are 0";
  const left = terms.length > shown.length ? ` (+ ${terms.length - shown.length} more, zero products left out)` : "";
  return { text: text + left, sum };
}

/** Feature-map cell (y, x): per input channel, its products; their sums plus the bias give the cell's value. */
export function explainConv(result, y, x) {
  const { rows, cols, cells } = convTaps(result, y, x);
  const channels = result.padded.map((plane, c) => channelProducts(plane, result.kernel[c], rows, cols));
  const total = channels.reduce((a, ch) => a + ch.sum, 0) + result.bias;
  const value = result.feature_map[y][x];
  const f = result.kernel[0].length;
  const p = result.padding;
  const where = `padded-input rows ${rows[0]}…${rows.at(-1)}, columns ${cols[0]}…${cols.at(-1)}`
    + (result.dilation > 1 ? ` (every ${esc(result.dilation)}th cell: dilation ${esc(result.dilation)})` : "");
  const lines = channels.map((ch, c) => `<p class="eq">${channels.length > 1 ? `channel ${c}: ` : ""}${esc(ch.text)}
      = <span data-role="channel-sum" data-value="${esc(ch.sum)}">${esc(fmt(ch.sum))}</span></p>`).join("");
  const sums = channels.length > 1 ? `${channels.map((ch) => esc(fmt(ch.sum))).join(" + ")} ` : `${esc(fmt(channels[0].sum))} `;
  const html = `<p><b>feature map [${esc(y)}, ${esc(x)}]</b> — the ${f}×${f} kernel over ${where}; stride
      ${esc(result.stride)} puts its corner at (${esc(y)}·${esc(result.stride)}, ${esc(x)}·${esc(result.stride)})${
  p ? `, and padded row r is input row r − ${esc(p)}` : ""}.</p>${lines}
      <p class="eq">${sums}+ bias ${esc(fmt(result.bias))} =
      <b data-role="sum" data-value="${esc(total)}">${esc(fmt(total))}</b>
      <span class="muted">(server: <span data-role="value" data-value="${esc(value)}">${esc(fmt(value))}</span>)</span></p>`;
  return { cells, html };
}

const DIVIDES_BY = {
  covered: (n) => `the ${n} cells of the map it covers`,
  padded: (n) => `the ${n} cells it covers including zero padding (PyTorch's default, count_include_pad=True)`,
  window: (n) => `the full window, ${n} cells, whatever it covers`,
};

/** Pooled cell (y, x): its window on the activated map, and the winner (max), the divisor (avg) or the sum. */
export function explainPool(result, y, x) {
  const p = result.pooled;
  const i = y * p.shape[1] + x;
  const box = p.windows[i];
  const winner = p.winners ? p.winners[i] : null;
  const cells = boxCells(box).map(([r, c]) => result.activated[r][c]);
  const [h, w] = boxShape(box);
  const missing = p.size * p.size - h * w;
  const partial = missing > 0 ? ` A partial window: ${missing} of its ${p.size}×${p.size} cells lie in the padding
      or past the edge (${p.mode} mode keeps it).` : "";
  const value = p.values[y][x];
  const list = esc(cells.map(fmt).join(", "));
  const total = cells.reduce((a, b) => a + b, 0);
  let eq = `${esc(p.type)}(${list})`;
  if (p.type === "avg") eq = `(${list.replaceAll(", ", " + ")}) / ${esc(p.divisors[i])}`;
  if (p.type === "sum") eq = `${list.replaceAll(", ", " + ")}`;
  const how = p.type === "avg" ? ` The sum ${esc(fmt(total))} is divided by ${DIVIDES_BY[p.divisor](p.divisors[i])}.`
    : p.type === "max" ? ` The winner is cell [${esc(winner[0])}, ${esc(winner[1])}] of the map.` : "";
  const html = `<p><b>pooled [${esc(y)}, ${esc(x)}]</b> — ${esc(p.type)} of the ${h}×${w} window at
      ${esc(boxText(box))} of the activated map.${partial}${how}</p>
      <p class="eq">${eq} = <b data-role="value" data-value="${esc(value)}">${esc(fmt(value))}</b></p>`;
  return { box, winner, html };
}
