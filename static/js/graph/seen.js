// What the model receives (after resize, crop and normalisation), whole and per channel, with the traced unit's
// field; and d unit / d input per channel and summed, on the diverging scale with its legend.
import { legend, maxAbs } from "../shared/colors.js";
import { esc } from "../shared/escape.js";
import { paintMap } from "../shared/heatmap.js";
import { markBox } from "./marks.js";
import { fitSize, paintInput } from "./paint.js";

const NAMES = { 3: ["red", "green", "blue"] };
const channelName = (c, C) => (NAMES[C] ? NAMES[C][c] : `channel ${c}`);

/** A figure with a canvas inside a mark holder, and a caption. */
function figure(caption, testid, big) {
  const fig = document.createElement("figure");
  fig.className = big ? "seen-main" : "seen-ch";
  fig.innerHTML = `<span class="thumb"${testid ? ` data-testid="${esc(testid)}"` : ""}><canvas role="img"
    aria-label="${esc(caption)}"></canvas></span><figcaption>${esc(caption)}</figcaption>`;
  return fig;
}

export class SeenView {
  constructor(el, gradEl, info) {
    Object.assign(this, { el, gradEl, info });
    this.dims = info.shape;
  }

  /** The input layer's values (C·H·W, in the model's input space). */
  show(data) {
    const [C, H, W] = this.dims;
    const main = figure(C === 3 ? "as the model receives it" : "as the model receives it (grey)", "rf-input", true);
    paintInput(main.querySelector("canvas"), data, this.dims, this.info, fitSize(H, W, 150));
    const parts = [main];
    if (C > 1) {
      for (let c = 0; c < C; c++) {
        const fig = figure(channelName(c, C), null, false);
        paintInput(fig.querySelector("canvas"), data, this.dims, this.info, fitSize(H, W, 44), c);
        parts.push(fig);
      }
    }
    this.el.replaceChildren(...parts);
  }

  clear() {
    this.el.replaceChildren();
    this.gradEl.replaceChildren();
  }

  /** Mark the input field (null clears) on the whole input and every channel. */
  setField(field) {
    for (const holder of this.el.querySelectorAll(".thumb")) markBox(holder, field, this.dims);
  }

  /** d unit / d input: the sum over channels, then each channel (one shared range, so they compare). */
  gradient(g) {
    if (!g) return this.gradEl.replaceChildren();
    const [C, H, W] = g.shape;
    const combined = Float32Array.from(g.combined.flat());
    const per = g.channels.map((ch) => Float32Array.from(ch.flat()));
    const r = Math.max(maxAbs(combined), ...per.map((p) => maxAbs(p)));
    const head = document.createElement("p");
    head.className = "muted";
    head.textContent = "How much each input value moves the unit (d unit / d input):";
    const parts = [head, this._grad("summed over channels", combined, H, W, r, 120)];
    if (C > 1) per.forEach((p, c) => parts.push(this._grad(channelName(c, C), p, H, W, r, 60)));
    parts.push(legend("signed", r));
    this.gradEl.replaceChildren(...parts);
  }

  _grad(caption, data, h, w, r, side) {
    const fig = figure(`gradient, ${caption}`, null, false);
    const canvas = fig.querySelector("canvas");
    canvas.width = w;
    canvas.height = h;
    const css = fitSize(h, w, side);
    canvas.style.width = `${css.width}px`;
    canvas.style.height = `${css.height}px`;
    paintMap(canvas, data, 0, h * w, r);
    return fig;
  }
}
