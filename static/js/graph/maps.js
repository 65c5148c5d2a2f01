// An opened node's maps: a first screenful of channels (by index, or sorted by mean or max activation) with the
// rest on demand, each map at its true resolution (one canvas pixel per unit) and zoomable; clicking a unit
// traces it. In index order each page is its own request (channels=a:b); a sort needs every channel, so it asks
// for the whole layer once (8-bit display values: a quarter of its float32 size).
import { legend } from "../shared/colors.js";
import { esc } from "../shared/escape.js";
import { markBox } from "./marks.js";
import { fitSize, paintChannel, paintVector, vectorGrid } from "./paint.js";

/** Channels per screenful for an H×W map: fewer for large maps. */
export function pageSize(h, w) {
  const n = h * w;
  if (n >= 3000) return 8;
  if (n >= 400) return 16;
  return 32;
}

/** Channel order by a per-channel statistic of values (C maps of n each): "mean" or "max", largest first. */
export function channelOrder(data, channels, n, by) {
  const stat = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let s = 0;
    let m = -Infinity;
    for (let i = c * n; i < (c + 1) * n; i++) {
      s += data[i];
      if (data[i] > m) m = data[i];
    }
    stat[c] = by === "mean" ? s / n : m;
  }
  return Array.from({ length: channels }, (_, c) => c).sort((a, b) => stat[b] - stat[a] || a - b);
}

export class LayerPanel {
  /** els: {title, tools, maps, more, order, zoom}; session: Session; onUnit(layer, unit) when a unit is clicked. */
  constructor(els, session, graph, { onUnit, onError }) {
    Object.assign(this, { els, session, graph, onUnit });
    this.layer = null;
    this.field = null;
    els.more.addEventListener("click", () => this._more().catch(onError));
    els.order.addEventListener("change", () => this.layer && this.open(this.layer.name).catch(onError));
    els.zoom.addEventListener("change", () => this._zoom());
    els.maps.addEventListener("click", (e) => this._click(e));
  }

  /** Open a layer: its title, tools and first screenful of maps. */
  async open(name) {
    const layer = this.graph.byName.get(name);
    const token = { generation: this.session.generation };
    this.token = token;
    this.layer = layer;
    this.shown = 0;
    this.order = null;
    this.els.title.textContent = `${name} · ${layer.op} · ${layer.shape.join("×")}`;
    this.els.tools.hidden = layer.shape.length !== 3;
    this.els.maps.replaceChildren();
    this.els.more.hidden = true;
    if (!this.session.blob) {
      this.els.maps.innerHTML = '<p class="muted">Give the model an image to see this layer\'s values.</p>';
      return;
    }
    if (layer.shape.length !== 3) return this._vector(await this.session.layers([name]), token);
    if (this.els.order.value !== "index") {
      const frame = await this.session.layers([name]);
      if (!this._current(token)) return null;
      const [C, H, W] = layer.shape;
      this.all = frame.layers[0].data;
      this.order = channelOrder(this.all, C, H * W, this.els.order.value);
    }
    return this._more(token);
  }

  /** Whether an answer still belongs to what is on screen (the same open layer, the same input). */
  _current(token) {
    return token === this.token && token.generation === this.session.generation;
  }

  /** The next screenful of channels. */
  async _more(token = this.token) {
    const [C, H, W] = this.layer.shape;
    const start = this.shown;
    const stop = Math.min(C, start + pageSize(H, W));
    let pick;
    if (this.order) {
      pick = this.order.slice(start, stop).map((c) => ({ c, data: this.all, offset: c * H * W }));
    } else {
      const frame = await this.session.layers([this.layer.name], `${start}:${stop}`);
      const data = frame.layers[0].data;
      pick = Array.from({ length: stop - start }, (_, i) => ({ c: start + i, data, offset: i * H * W }));
    }
    if (!this._current(token)) return;
    for (const p of pick) this.els.maps.append(this._map(p, H, W));
    this.shown = stop;
    this.els.more.hidden = stop >= C;
    this.els.more.textContent = `More channels (${stop} of ${C} shown)`;
    this._zoom();
    this.setField(this.field);
  }

  _map({ c, data, offset }, h, w) {
    const fig = document.createElement("figure");
    fig.className = "gmap";
    fig.innerHTML = `<span class="thumb"><canvas data-layer="${esc(this.layer.name)}" data-channel="${c}"
      role="img" aria-label="${esc(this.layer.name)} channel ${c}"></canvas></span><figcaption>ch ${c}</figcaption>`;
    const range = paintChannel(fig.querySelector("canvas"), data, offset, h, w, fitSize(h, w, 96));
    fig.title = `channel ${c}: ±${range.toPrecision(3)} (each map on its own range)`;
    return fig;
  }

  _vector(frame, token) {
    if (!this._current(token)) return;
    const l = frame.layers[0];
    const canvas = document.createElement("canvas");
    canvas.dataset.layer = l.name;
    canvas.dataset.channel = "0";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${l.name}: ${l.shape[0]} values`);
    const [rows, cols] = vectorGrid(l.shape[0]);
    const range = paintVector(canvas, l.data, { width: Math.min(280, cols * 12), height: Math.min(280, cols * 12) * rows / cols });
    const fig = document.createElement("figure");
    fig.className = "gmap vector";
    fig.append(canvas, legend("signed", range));
    this.els.maps.replaceChildren(fig);
  }

  /** Map size: fit (96 px per map) or 1×, 2×, 4× true pixels. */
  _zoom() {
    if (!this.layer || this.layer.shape.length !== 3) return;
    const [, H, W] = this.layer.shape;
    const z = this.els.zoom.value;
    const css = z === "fit" ? fitSize(H, W, 96) : { width: W * Number(z), height: H * Number(z) };
    this.els.maps.classList.toggle("zoomed", z !== "fit");
    for (const canvas of this.els.maps.querySelectorAll("canvas")) {
      canvas.style.width = `${css.width}px`;
      canvas.style.height = `${css.height}px`;
    }
  }

  /** The traced unit's field on the open layer's maps (null clears). */
  setField(field) {
    this.field = field;
    if (!this.layer) return;
    const reached = field && field.channels ? new Set(field.channels) : null;
    for (const holder of this.els.maps.querySelectorAll(".thumb")) {
      const c = Number(holder.querySelector("canvas").dataset.channel);
      markBox(holder, field && (!reached || reached.has(c)) ? field : null, this.layer.shape);
    }
  }

  _click(e) {
    const canvas = e.target.closest("canvas[data-layer]");
    if (!canvas) return;
    const r = canvas.getBoundingClientRect();
    const fx = (e.clientX - r.left) / r.width;
    const fy = (e.clientY - r.top) / r.height;
    const c = Number(canvas.dataset.channel);
    if (this.layer.shape.length !== 3) {
      const [rows, cols] = vectorGrid(this.layer.shape[0]);
      const i = Math.floor(fy * rows) * cols + Math.floor(fx * cols);
      if (i < this.layer.shape[0]) this.onUnit(this.layer.name, [i]);
      return;
    }
    const [, H, W] = this.layer.shape;
    this.clicked = [c, Math.min(H - 1, Math.floor(fy * H)), Math.min(W - 1, Math.floor(fx * W))];
    this.onUnit(this.layer.name, this.clicked);
  }
}
