// Lab map rendering: small maps as tables with their numbers, large ones as canvas heatmaps; hover → cell.
// Signed values use the diverging scale with a ±range legend; input pixels the visualiser's grey (0 black, 1 white).
import { diverging, greyscale, legend, maxAbs, rgbCss } from "../shared/colors.js";
import { compact } from "../shared/format.js";
import { flatIndex } from "../shared/geometry.js";
import { paintMap } from "../shared/heatmap.js";

const NUMBERS_UP_TO = 12; // maps up to 12×12 show their numbers

/** WCAG relative luminance of an RGB triple (0…255 channels). */
function luminance(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const s = (c | 0) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The cell's text colour: black or white, whichever contrasts more with its background (WCAG AA). */
export function textOn(rgb) {
  const l = luminance(rgb);
  const dark = (l + 0.05) / 0.05; // against black
  return dark >= 1.05 / (l + 0.05) ? "#000" : "#fff";
}

/** One map on the page: render() draws values, mark() outlines cells in place (hovering never re-renders). */
export class MapView {
  constructor(container) {
    this.container = container;
    this.cells = null; // table cells, or null for a canvas map
    this.wrap = null;
    this.marked = [];
    this.onCell = null;
    this.container.addEventListener("pointermove", (e) => this.#pick(e));
    this.container.addEventListener("click", (e) => this.#pick(e));
    this.container.addEventListener("focusin", (e) => this.#pick(e));
  }

  #pick(e) {
    if (!this.onCell || !this.values) return;
    const td = e.target.closest ? e.target.closest("td") : null;
    if (td && this.cells) return this.onCell(Number(td.dataset.y), Number(td.dataset.x));
    const canvas = e.target.closest ? e.target.closest("canvas") : null;
    if (!canvas || e.clientX === undefined) return;
    const rect = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - rect.left) / rect.width) * this.w);
    const y = Math.floor(((e.clientY - rect.top) / rect.height) * this.h);
    if (x >= 0 && y >= 0 && x < this.w && y < this.h) this.onCell(y, x);
  }

  /**
   * Draw values (rows of numbers); onCell(y, x) is called on hover, tap and focus. grey: draw as input pixels
   * (0 black … 1 white, as the visualiser draws its input) instead of the signed scale.
   */
  render(values, { range = null, onCell = null, marks = {}, grey = false } = {}) {
    this.values = values;
    this.onCell = onCell;
    this.h = values.length;
    this.w = values[0].length;
    const flat = values.flat();
    const r = grey ? null : range ?? maxAbs(Float64Array.from(flat));
    this.container.dataset.shape = `${this.h}x${this.w}`;
    this.container.dataset.sum = flat.reduce((a, b) => a + b, 0).toFixed(6);
    this.container.dataset.scale = grey ? "grey" : "signed";
    this.container.replaceChildren();
    this.marked = [];
    if (this.h <= NUMBERS_UP_TO && this.w <= NUMBERS_UP_TO) this.#renderTable(values, r, Boolean(onCell));
    else this.#renderCanvas(flat, r, Boolean(onCell));
    this.container.append(grey ? legend("input") : legend("signed", r));
    this.base = marks;
    this.mark({});
  }

  /** A small map: a table of coloured cells with their numbers (r null: grey input pixels). */
  #renderTable(values, r, focusable) {
    const table = document.createElement("table");
    table.className = "lab-grid";
    this.cells = [];
    this.wrap = null;
    for (let y = 0; y < this.h; y++) {
      const tr = document.createElement("tr");
      for (let x = 0; x < this.w; x++) {
        const td = document.createElement("td");
        const v = values[y][x];
        const bg = r === null ? greyscale(v) : diverging(v, r);
        td.style.background = rgbCss(bg);
        td.style.color = textOn(bg);
        td.textContent = compact(v);
        Object.assign(td.dataset, { y, x, value: v });
        if (focusable) td.tabIndex = 0;
        tr.append(td);
        this.cells.push(td);
      }
      table.append(tr);
    }
    this.container.append(table);
  }

  /** A large map: a canvas heatmap, one pixel per cell, scaled up to about 196 CSS px (r null: grey). */
  #renderCanvas(flat, r, focusable) {
    this.cells = null;
    const canvas = document.createElement("canvas");
    canvas.width = this.w;
    canvas.height = this.h;
    canvas.className = "lab-canvas";
    if (focusable) canvas.tabIndex = 0;
    const scale = Math.max(3, Math.floor(196 / Math.max(this.h, this.w)));
    canvas.style.width = `${this.w * scale}px`;
    canvas.style.height = `${this.h * scale}px`;
    paintMap(canvas, flat, 0, flat.length, r);
    this.wrap = document.createElement("div");
    this.wrap.className = "lab-canvas-wrap";
    this.wrap.append(canvas);
    this.container.append(this.wrap);
  }

  /** Outline cells: {"y,x": className}, on top of the marks given at render time. */
  mark(marks) {
    for (const el of this.marked) {
      if (this.cells) el.className = "";
      else el.remove();
    }
    this.marked = [];
    for (const [key, cls] of Object.entries({ ...this.base, ...marks })) {
      const [y, x] = key.split(",").map(Number);
      if (this.cells) {
        const td = this.cells[flatIndex([this.h, this.w], [y, x])];
        td.className = cls;
        this.marked.push(td);
      } else {
        const box = document.createElement("div");
        box.className = `cell-mark ${cls}`;
        box.style.left = `${(x / this.w) * 100}%`;
        box.style.top = `${(y / this.h) * 100}%`;
        box.style.width = `${100 / this.w}%`;
        box.style.height = `${100 / this.h}%`;
        this.wrap.append(box);
        this.marked.push(box);
      }
    }
  }
}
