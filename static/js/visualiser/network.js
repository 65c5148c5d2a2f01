// Layer rendering: every layer in forward order, each map its own <canvas> heatmap, repainted from real values.
import { legend, maxAbs } from "../shared/colors.js";
import { CONFIG } from "../shared/config.js";
import { esc } from "../shared/escape.js";
import { flatIndex, isSpatial, unravel } from "../shared/geometry.js";
import { paintMap } from "../shared/heatmap.js";
import { LAYER_NOTES, isPerDigit } from "../shared/layers.js";

const fmtShape = (shape) => shape.join("×");
const legendKind = (layer) => (layer.role === "input" ? "input" : "signed");

export class NetworkView {
  constructor(container, model) {
    this.container = container;
    this.model = model;
    this.layers = model.layers;
    this.rangeMode = "layer";
    this.values = null; // name → Float32Array
    this.rows = new Map(); // name → {row, canvases: [canvas], legendEl, cols, rows}
    for (const layer of this.layers) this.#buildLayer(layer);
  }

  #buildLayer(layer) {
    const row = document.createElement("section");
    row.className = `layer kind-${layer.kind}`;
    row.dataset.layerRow = layer.name;
    row.id = `layer-${layer.name}`;
    const entry = { row, canvases: [], legendEl: legend(legendKind(layer), 1), cols: 0, rows: 0, layer };
    row.append(header(layer, entry.legendEl));
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = LAYER_NOTES[layer.kind] || "";
    row.append(note);
    const maps = document.createElement("div");
    maps.className = "maps";
    row.append(maps);
    if (isSpatial(layer)) this.#buildMaps(layer, maps, entry);
    else this.#buildVector(layer, maps, entry);
    const kernels = document.createElement("div");
    kernels.className = "kernels";
    kernels.hidden = true;
    row.append(kernels);
    entry.kernelsEl = kernels;
    this.rows.set(layer.name, entry);
    this.container.append(row);
  }

  #buildMaps(layer, maps, entry) {
    const [channels, h, w] = layer.shape;
    const size = CONFIG.mapSize(layer.shape);
    for (let c = 0; c < channels; c++) maps.append(this.#mapElement(layer, c, w, h, size, size, entry));
    entry.cols = w;
    entry.rows = h;
  }

  #buildVector(layer, maps, entry) {
    const n = layer.shape[0];
    const cols = CONFIG.vectorColumns(n);
    const rows = Math.ceil(n / cols);
    entry.cols = cols;
    entry.rows = rows;
    maps.append(this.#mapElement(layer, 0, cols, rows, cols * CONFIG.vectorCell, rows * CONFIG.vectorCell, entry));
    maps.classList.add("vector");
    if (isPerDigit(layer)) {
      const labels = document.createElement("div");
      labels.className = "digit-labels";
      labels.style.width = `${cols * CONFIG.vectorCell}px`;
      labels.innerHTML = Array.from({ length: n }, (_, i) => `<span>${i}</span>`).join("");
      maps.append(labels);
    }
  }

  #mapElement(layer, c, w, h, cssW, cssH, entry) {
    const wrap = document.createElement("div");
    wrap.className = "map";
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    canvas.style.width = `${cssW}px`;
    canvas.style.height = `${cssH}px`;
    canvas.dataset.layer = layer.name;
    canvas.dataset.channel = String(c);
    canvas.dataset.cols = String(w);
    canvas.dataset.rows = String(h);
    canvas.tabIndex = c === 0 ? 0 : -1; // one tab stop per layer; the arrow keys move between its units and maps
    canvas.setAttribute("role", "img");
    const what = isSpatial(layer) ? `channel ${c}` : `${layer.shape[0]} units`;
    canvas.setAttribute("aria-label", `${layer.name} ${what}; use the arrow keys to inspect units`);
    const box = document.createElement("div");
    box.className = "rf-box";
    box.hidden = true;
    const cursor = document.createElement("div");
    cursor.className = "unit-cursor";
    cursor.hidden = true;
    wrap.append(canvas, box, cursor);
    if (isSpatial(layer) && layer.shape[0] > 1) {
      const label = document.createElement("span");
      label.className = "ch";
      label.textContent = c;
      wrap.append(label);
    }
    entry.canvases.push(canvas);
    return wrap;
  }

  /** Make this canvas its layer's one tab stop. */
  setTabStop(canvas) {
    for (const other of this.rows.get(canvas.dataset.layer).canvases) other.tabIndex = other === canvas ? 0 : -1;
  }

  /** Zoom a layer so each unit is at least CONFIG.tapCell px (for fingers), or back to its normal size. */
  setZoom(name, on) {
    const entry = this.rows.get(name);
    entry.row.classList.toggle("zoomed", on);
    for (const canvas of entry.canvases) {
      if (!canvas.dataset.baseWidth) Object.assign(canvas.dataset, { baseWidth: canvas.style.width, baseHeight: canvas.style.height });
      const cell = Math.max(CONFIG.tapCell, parseFloat(canvas.dataset.baseWidth) / canvas.width);
      canvas.style.width = on ? `${canvas.width * cell}px` : canvas.dataset.baseWidth;
      canvas.style.height = on ? `${canvas.height * cell}px` : canvas.dataset.baseHeight;
    }
    const button = entry.row.querySelector("button.zoom");
    if (button) {
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? "Unzoom" : "Zoom to tap";
    }
  }

  isZoomed(name) {
    return this.rows.get(name).row.classList.contains("zoomed");
  }

  setVisible(name, visible) {
    this.rows.get(name).row.hidden = !visible;
  }

  setRangeMode(mode) {
    this.rangeMode = mode;
    if (this.values) this.#paint();
  }

  /** Repaint every layer from a predict response (values decoded to Float32Array as layer.data; 8-bit display values
   * from the u8 encoding are close enough to draw, and the exact numbers come from /trace). */
  update(result) {
    this.values = new Map(result.layers.map((l) => [l.name, l.data]));
    this.#paint();
  }

  clear() {
    this.values = null;
    for (const entry of this.rows.values()) {
      for (const canvas of entry.canvases) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    }
  }

  #globalRange() {
    let m = 0;
    for (const layer of this.layers) {
      if (layer.role !== "input") m = Math.max(m, maxAbs(this.values.get(layer.name)));
    }
    return m;
  }

  #paint() {
    const global = this.rangeMode === "global" ? this.#globalRange() : 0;
    for (const layer of this.layers) {
      const data = this.values.get(layer.name);
      if (!data) continue;
      const entry = this.rows.get(layer.name);
      const layerRange = global || maxAbs(data);
      const per = entry.canvases.length > 1 ? data.length / entry.canvases.length : data.length;
      entry.canvases.forEach((canvas, c) => {
        const range = this.rangeMode === "map" ? maxAbs(data, c * per, (c + 1) * per) : layerRange;
        paintMap(canvas, data, c * per, per, layer.role === "input" ? null : range);
        canvas.title = `${layer.name}${entry.canvases.length > 1 ? ` channel ${c}` : ""}: colour range ±${range.toPrecision(3)}`;
      });
      const fresh = legend(legendKind(layer), layerRange);
      entry.legendEl.replaceWith(fresh);
      entry.legendEl = fresh;
    }
  }

  /** Unit under a client point on a map canvas: [c, y, x] for maps, [i] for vectors (null off the units). */
  unitAt(canvas, clientX, clientY) {
    const rect = canvas.getBoundingClientRect();
    const cols = Number(canvas.dataset.cols);
    const rows = Number(canvas.dataset.rows);
    const x = Math.floor(((clientX - rect.left) / rect.width) * cols);
    const y = Math.floor(((clientY - rect.top) / rect.height) * rows);
    if (x < 0 || y < 0 || x >= cols || y >= rows) return null;
    return this.unitFromCell(canvas.dataset.layer, Number(canvas.dataset.channel), y, x);
  }

  unitFromCell(name, c, y, x) {
    const { layer, rows, cols } = this.rows.get(name);
    if (isSpatial(layer)) return [c, y, x];
    const i = flatIndex([rows, cols], [y, x]);
    return i < layer.shape[0] ? [i] : null;
  }

  /** The canvas and cell (row, col) that show a unit. */
  cellOf(name, unit) {
    const entry = this.rows.get(name);
    if (unit.length === 3) return { canvas: entry.canvases[unit[0]], y: unit[1], x: unit[2] };
    const [y, x] = unravel([entry.rows, entry.cols], unit[0]);
    return { canvas: entry.canvases[0], y, x };
  }

  entry(name) {
    return this.rows.get(name);
  }

}

/** A layer's header: name (with its role when it is the logits), kind, shape, hyper-parameters, legend, kernels. */
function header(layer, legendEl) {
  const title = layer.role === "logits" ? `${layer.name} · logits` : layer.name;
  const head = document.createElement("header");
  head.innerHTML = `<h3>${esc(title)}</h3><span class="kind">${esc(layer.kind)}</span>
    <span class="shape" title="output shape">${esc(fmtShape(layer.shape))}</span>${hyperText(layer)}`;
  head.append(legendEl);
  const zoom = document.createElement("button");
  zoom.type = "button";
  zoom.className = "small zoom";
  zoom.textContent = "Zoom to tap";
  zoom.setAttribute("aria-pressed", "false");
  zoom.dataset.zoomFor = layer.name;
  head.append(zoom);
  if (layer.kind === "conv") {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "small";
    btn.textContent = "Show kernels";
    btn.setAttribute("aria-expanded", "false");
    btn.dataset.kernelsFor = layer.name;
    head.append(btn);
  }
  return head;
}

function hyperText(layer) {
  const h = layer.hyper || {};
  const parts = [];
  if (h.kernel_size) parts.push(`${h.kernel_size}×${h.kernel_size}`);
  if (h.stride && h.stride !== 1) parts.push(`stride ${h.stride}`);
  else if (h.kernel_size) parts.push("stride 1");
  if (h.padding) parts.push(`pad ${h.padding}`);
  if (h.pool_type) parts.push(h.pool_type);
  if (layer.parameters) parts.push(`${layer.parameters.toLocaleString("en")} params`);
  return parts.length ? `<span class="hyper">${esc(parts.join(" · "))}</span>` : "";
}
