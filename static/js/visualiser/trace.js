// Tracing: select a unit (hover, click, tap; keys.js adds focus + arrows), light up its receptive field in every
// earlier layer and on the input view, draw rays to its direct inputs coloured by contribution, and ask the API for its arithmetic and gradient.
import { PALETTE, diverging, maxAbs, rgbCss } from "../shared/colors.js";
import { CONFIG } from "../shared/config.js";
import { cellBox, isSpatial, regions, unravel } from "../shared/geometry.js";

export class Tracer {
  /**
   * view: the NetworkView; panel: the element the rays canvas covers; field: the input view that shows the field
   * ({rfInput, gradEl, cols, rows}); onTrace(name, unit) → Promise<trace | null>; onSelect({name, unit, regions, how})
   * or onSelect(null) after every change; tapGate(canvas) → true when a finger's tap was used otherwise (zoom).
   */
  constructor({ view, panel, rays, field, onTrace, onSelect = () => {}, tapGate = () => false }) {
    Object.assign(this, { view, panel, rays, field, onTrace, onSelect, tapGate });
    this.layers = view.layers;
    this.selected = null; // {index, unit}
    this.pinned = false;
    this.shown = [];
    this.trace = null;
    this.timer = 0;
    this.token = 0;
    const net = view.container;
    this.pointerType = "mouse"; // of the last pointerdown: a click's own pointerType is not reliable for taps
    net.addEventListener("pointerdown", (e) => { this.pointerType = e.pointerType; });
    net.addEventListener("pointermove", (e) => this.#pointer(e, false));
    net.addEventListener("click", (e) => this.#pointer(e, true));
    net.addEventListener("pointerleave", () => { if (!this.pinned && !this.#focusedCanvas()) this.clear(); });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") this.clear(); });
    window.addEventListener("resize", () => this.#drawRays());
  }

  #layerIndex(name) {
    return this.layers.findIndex((l) => l.name === name);
  }

  #focusedCanvas() {
    const el = document.activeElement;
    return el && el.dataset && el.dataset.layer && this.view.container.contains(el) ? el : null;
  }

  #pointer(e, click) {
    const canvas = e.target.closest ? e.target.closest("canvas[data-layer]") : null;
    if (!canvas) return;
    if (e.pointerType === "touch" && !click) return; // a finger moving is scrolling, not hovering
    if (this.pinned && !click) return;
    if (click && this.pointerType === "touch" && this.tapGate(canvas)) return;
    const unit = this.view.unitAt(canvas, e.clientX, e.clientY);
    if (!unit) return;
    if (click) this.pinned = !(this.pinned && this.same(canvas.dataset.layer, unit));
    this.select(canvas.dataset.layer, unit, click ? "click" : "hover");
  }

  /** Whether the selection is this unit of this layer. */
  same(name, unit) {
    return Boolean(this.selected) && this.layers[this.selected.index].name === name &&
      this.selected.unit.join() === unit.join();
  }

  /** The selection's layer name and unit, or null. */
  current() {
    return this.selected ? { name: this.layers[this.selected.index].name, unit: this.selected.unit } : null;
  }

  /** Select a unit: boxes and rays at once (local arithmetic), the arithmetic panel when the API answers. */
  select(name, unit, how = "key") {
    const index = this.#layerIndex(name);
    if (index < 0) return;
    const regs = regions(this.layers, index, unit);
    this.selected = { index, unit };
    this.regions = regs;
    this.trace = null;
    // Read every position before writing any style, so the browser lays the page out once, not per box.
    const rays = this.#rayGeometry();
    this.#hide();
    this.#mark(name, unit, "unit-cursor");
    for (const r of regs) this.#showRegion(r);
    const { rfInput: rf, cols, rows } = this.field;
    const box = this.layers[index].role === "input" ? cellBox(unit) : regs.at(-1).box;
    rf.dataset.box = box.join(",");
    this.#place(rf, box, cols, rows);
    rf.hidden = false;
    this.shown.push(rf);
    this.#paintRays(rays);
    document.dispatchEvent(new CustomEvent("convscope:highlighted")); // for the browser benchmark
    this.onSelect({ name, unit, regions: regs, how });
    this.#requestTrace();
  }

  /** Re-run the selected unit's trace after the input changed. */
  refresh() {
    if (this.selected) this.select(this.layers[this.selected.index].name, this.selected.unit, "refresh");
  }

  clear() {
    this.selected = null;
    this.pinned = false;
    this.trace = null;
    this.token++;
    this.#hide();
    this.#drawRays();
    this.field.gradEl.hidden = true;
    this.onTrace(null, null);
    this.onSelect(null);
  }

  #hide() {
    for (const el of this.shown) el.hidden = true;
    this.shown = [];
  }

  #place(el, [x0, y0, x1, y1], cols, rows) {
    el.style.left = `${(x0 / cols) * 100}%`;
    el.style.top = `${(y0 / rows) * 100}%`;
    el.style.width = `${((x1 - x0 + 1) / cols) * 100}%`;
    el.style.height = `${((y1 - y0 + 1) / rows) * 100}%`;
  }

  #mark(name, unit, cls) {
    const { canvas, y, x } = this.view.cellOf(name, unit);
    const el = canvas.parentElement.querySelector(`.${cls}`);
    this.#place(el, [x, y, x, y], Number(canvas.dataset.cols), Number(canvas.dataset.rows));
    el.hidden = false;
    this.shown.push(el);
  }

  #showRegion(region) {
    const entry = this.view.entry(region.layer);
    if (region.box === null) {
      // A vector layer: its own unit(s), or the whole vector.
      if (region.channels) return this.#mark(region.layer, region.channels, "rf-box");
      const el = entry.canvases[0].parentElement.querySelector(".rf-box");
      this.#place(el, [0, 0, entry.cols - 1, entry.rows - 1], entry.cols, entry.rows);
      el.hidden = false;
      this.shown.push(el);
      return;
    }
    const canvases = region.channels ? region.channels.map((c) => entry.canvases[c]) : entry.canvases;
    for (const canvas of canvases) {
      const el = canvas.parentElement.querySelector(".rf-box");
      this.#place(el, region.box, entry.cols, entry.rows);
      el.hidden = false;
      this.shown.push(el);
    }
  }

  #requestTrace() {
    clearTimeout(this.timer);
    const token = ++this.token;
    const { index, unit } = this.selected;
    this.timer = setTimeout(async () => {
      const result = await this.onTrace(this.layers[index].name, unit);
      if (token !== this.token || !result) return;
      this.trace = result;
      this.#showGradient(result.gradient);
      this.#drawRays();
    }, CONFIG.traceDebounceMs);
  }

  #showGradient(gradient) {
    const grad = this.field.gradEl;
    const flat = Float32Array.from(gradient.flat());
    const r = maxAbs(flat);
    const ctx = grad.getContext("2d");
    const img = ctx.createImageData(grad.width, grad.height);
    for (let i = 0; i < flat.length; i++) {
      const rgb = diverging(flat[i], r);
      img.data.set([rgb[0], rgb[1], rgb[2], r > 0 ? Math.round(255 * Math.min(1, Math.abs(flat[i]) / r)) : 0], i * 4);
    }
    ctx.putImageData(img, 0, 0);
    grad.hidden = r === 0;
    grad.title = `gradient of the selected unit w.r.t. each input pixel (±${r.toPrecision(3)})`;
  }

  /** Targets of the rays: [{name, unit, weight}] for the selected unit's direct inputs. */
  #targets() {
    const { index } = this.selected;
    const layer = this.layers[index];
    if (layer.role === "input") return [];
    const prev = this.layers[index - 1];
    const comp = this.trace ? this.trace.computation : null;
    if (layer.kind === "linear") {
      if (!comp) return [];
      return comp.top.map((t) => ({ name: prev.name, unit: this.#vectorUnit(prev, t.index), weight: t.product }));
    }
    if (layer.kind === "softmax") {
      return Array.from({ length: prev.shape[0] }, (_, i) => ({ name: prev.name, unit: [i], weight: null }));
    }
    const region = this.regions[0];
    if (layer.kind === "flatten") {
      const [x, y] = region.box;
      return [{ name: prev.name, unit: [region.channels[0], y, x], weight: null }];
    }
    const channels = region.channels || Array.from({ length: prev.shape[0] }, (_, c) => c);
    const cx = Math.floor((region.box[0] + region.box[2]) / 2);
    const cy = Math.floor((region.box[1] + region.box[3]) / 2);
    return channels.map((c) => ({
      name: prev.name, unit: [c, cy, cx],
      weight: comp && comp.channel_sums ? comp.channel_sums[c] : null,
    }));
  }

  #vectorUnit(layer, i) {
    return isSpatial(layer) ? unravel(layer.shape, i) : [i];
  }

  #center(name, unit, origin) {
    const { canvas, y, x } = this.view.cellOf(name, unit);
    const r = canvas.getBoundingClientRect();
    const cols = Number(canvas.dataset.cols);
    const rows = Number(canvas.dataset.rows);
    return [r.left - origin.left + ((x + 0.5) / cols) * r.width, r.top - origin.top + ((y + 0.5) / rows) * r.height];
  }

  #drawRays() {
    this.#paintRays(this.#rayGeometry());
  }

  /** Layout reads only: the panel's size and each ray's end points with their weights. */
  #rayGeometry() {
    const origin = this.panel.getBoundingClientRect();
    const geo = { w: Math.ceil(origin.width), h: Math.ceil(origin.height), lines: [] };
    if (!this.selected) return geo;
    const from = this.#center(this.layers[this.selected.index].name, this.selected.unit, origin);
    geo.lines = this.#targets().map((t) => ({ from, to: this.#center(t.name, t.unit, origin), weight: t.weight }));
    return geo;
  }

  /** Canvas writes only. */
  #paintRays({ w, h, lines }) {
    const canvas = this.rays;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== w * dpr || canvas.height !== h * dpr) {
      canvas.width = w * dpr;
      canvas.height = h * dpr;
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const scale = Math.max(...lines.map((t) => Math.abs(t.weight || 0)), 1e-12);
    for (const t of lines) {
      const { from, to } = t;
      const strength = t.weight === null ? 0.5 : Math.abs(t.weight) / scale;
      const rgb = t.weight === null ? null : diverging(t.weight, scale);
      ctx.strokeStyle = rgb ? rgbCss(rgb, 0.35 + 0.65 * strength) : PALETTE.rayNeutral;
      ctx.lineWidth = 0.75 + 2.5 * strength;
      ctx.beginPath();
      ctx.moveTo(...from);
      ctx.lineTo(...to);
      ctx.stroke();
    }
  }
}
