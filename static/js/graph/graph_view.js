// The graph on the page: module frames and edges in one SVG, each node a button with its name, shape and a
// thumbnail (the first channel of its output for this input) asked for only once the node scrolls into view.
import { esc } from "../shared/escape.js";
import { layout } from "./layout.js";
import { markBox } from "./marks.js";
import { paintThumb } from "./paint.js";

const SVG = "http://www.w3.org/2000/svg";

const shapeText = (shape) => shape.join("×");

export class GraphView {
  /** el: the graph container inside scroller; onOpen(layer) when a layer node is clicked; onNeed(layers) lazily. */
  constructor(el, scroller, graph, { onOpen, onNeed, onLayout }) {
    Object.assign(this, { el, scroller, graph, onOpen, onNeed, onLayout });
    this.expanded = graph.defaultExpanded();
    this.thumbs = new Map(); // layer → { data, shape } of its first channel, for this input
    this.fields = null; // layer → field, while a unit is traced
    this.nodeEls = new Map();
    this.edgeEls = new Map(); // node id → its edges' paths
    this.observer = new IntersectionObserver((entries) => this._inView(entries), { root: scroller, rootMargin: "200px" });
    el.addEventListener("click", (e) => this._click(e));
    el.addEventListener("mouseover", (e) => this._hover(e.target.closest(".gn")));
    el.addEventListener("mouseleave", () => this._hover(null));
    this.render();
  }

  /** Fold or unfold modules and draw again. */
  setExpanded(expanded) {
    this.expanded = expanded;
    this.render();
  }

  render() {
    this.observer.disconnect();
    this.hovered = null;
    this.lit = [];
    const visible = this.graph.visible(this.expanded);
    const placed = layout(visible);
    this.el.style.width = `${placed.width}px`;
    this.el.style.height = `${placed.height}px`;
    this.titles = [];
    this.el.replaceChildren(this._svg(visible, placed), ...this.titles);
    this.nodeEls.clear();
    for (const n of visible.nodes) {
      const el = this._node(n, placed.nodes.get(n.id));
      this.el.append(el);
      this.nodeEls.set(n.id, el);
      this.observer.observe(el);
    }
    this._paintAll();
    if (this.onLayout) this.onLayout(visible);
  }

  _svg(visible, placed) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", placed.width);
    svg.setAttribute("height", placed.height);
    svg.setAttribute("aria-hidden", "true");
    svg.classList.add("edges");
    for (const f of visible.frames) {
      const b = placed.frames.get(f.id);
      const rect = document.createElementNS(SVG, "rect");
      Object.entries({ x: b.x - b.width / 2, y: b.y - b.height / 2, width: b.width, height: b.height, rx: 8 })
        .forEach(([k, v]) => rect.setAttribute(k, v));
      rect.classList.add("frame");
      svg.append(rect);
      this.titles.push(this._frameButton(f, b));
    }
    this.edgeEls.clear();
    for (const e of placed.edges) {
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", e.points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" "));
      path.dataset.from = e.from;
      path.dataset.to = e.to;
      svg.append(path);
      for (const id of [e.from, e.to]) {
        if (!this.edgeEls.has(id)) this.edgeEls.set(id, []);
        this.edgeEls.get(id).push(path);
      }
    }
    return svg;
  }

  _frameButton(f, b) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "frame-title";
    btn.dataset.fold = f.group;
    btn.setAttribute("aria-expanded", "true");
    btn.style.left = `${b.x - b.width / 2 + 6}px`;
    btn.style.top = `${b.y - b.height / 2 + 2}px`;
    btn.textContent = `▾ ${f.group}`;
    btn.title = `Fold ${f.group} into one node`;
    return btn;
  }

  _node(n, b) {
    const layer = this.graph.byName.get(n.layer);
    const el = document.createElement("button");
    el.type = "button";
    el.className = `gn ${n.kind}${n.inputs > 1 ? " merge" : ""}`;
    el.dataset.node = n.id;
    el.dataset.layer = n.layer;
    el.style.left = `${b.x - b.width / 2}px`;
    el.style.top = `${b.y - b.height / 2}px`;
    const title = n.kind === "group" ? `▸ ${n.name}` : n.name;
    const what = n.kind === "group" ? `${n.size} layers` : layer.op;
    // The accessible name is the visible text plus what a click does (screen readers and speech input agree).
    const extra = n.kind === "group" ? ": unfold" : `${n.inputs > 1 ? `, merges ${n.inputs} inputs` : ""}: open its maps`;
    el.innerHTML = `<span class="thumb"><canvas width="1" height="1"></canvas></span>
      <span class="t">${esc(title)}</span><small>${esc(what)} · ${esc(shapeText(layer.shape))}<span
      class="sr-only">${esc(extra)}</span></small>`;
    if (n.kind === "group") el.setAttribute("aria-expanded", "false");
    return el;
  }

  _click(e) {
    const fold = e.target.closest("[data-fold]");
    if (fold) {
      const g = fold.dataset.fold; // folding a module folds everything inside it too
      return this.setExpanded(new Set([...this.expanded].filter((e) => e !== g && !e.startsWith(`${g}.`))));
    }
    const node = e.target.closest(".gn");
    if (!node) return null;
    if (node.classList.contains("group")) return this.setExpanded(new Set([...this.expanded, node.dataset.node.slice(2)]));
    for (const el of this.el.querySelectorAll(".gn.open")) el.classList.remove("open");
    node.classList.add("open");
    return this.onOpen(node.dataset.layer);
  }

  /** Light up a node, its edges and its neighbours (cheap: only the elements touched change). */
  _hover(node) {
    if (node === this.hovered) return; // moving inside the same node (its canvas, its text)
    this.hovered = node;
    for (const el of this.lit || []) el.classList.remove("hl");
    this.lit = [];
    if (!node) return;
    this.lit.push(node);
    for (const path of this.edgeEls.get(node.dataset.node) || []) {
      const other = path.dataset.from === node.dataset.node ? path.dataset.to : path.dataset.from;
      this.lit.push(path, ...(this.nodeEls.has(other) ? [this.nodeEls.get(other)] : []));
    }
    for (const el of this.lit) el.classList.add("hl");
    document.dispatchEvent(new CustomEvent("convscope:highlighted")); // for the browser benchmark
  }

  _inView(entries) {
    const wanted = entries.filter((e) => e.isIntersecting).map((e) => e.target.dataset.layer)
      .filter((name) => !this.thumbs.has(name));
    if (wanted.length) this.onNeed([...new Set(wanted)]);
  }

  /** Layers of the nodes now in (or near) view that have no thumbnail yet. */
  missingInView() {
    const view = this.scroller.getBoundingClientRect();
    const out = [];
    for (const el of this.nodeEls.values()) {
      const r = el.getBoundingClientRect();
      const near = r.bottom > view.top - 200 && r.top < view.bottom + 200 && r.right > view.left && r.left < view.right;
      if (near && !this.thumbs.has(el.dataset.layer)) out.push(el.dataset.layer);
    }
    return [...new Set(out)];
  }

  /** Thumbnails from a frame's layers (first channel of each map). */
  addThumbs(frame) {
    for (const l of frame.layers) {
      this.thumbs.set(l.name, { data: l.data, shape: l.shape });
      for (const el of this.nodeEls.values()) if (el.dataset.layer === l.name) this._paint(el);
    }
  }

  /** A new input: drop every thumbnail. */
  clearThumbs() {
    this.thumbs.clear();
    this._paintAll();
  }

  /** Mark the traced unit's field on every node it reaches (null clears). */
  setFields(fields) {
    this.fields = fields;
    for (const el of this.nodeEls.values()) this._mark(el);
  }

  _paintAll() {
    for (const el of this.nodeEls.values()) this._paint(el);
  }

  _paint(el) {
    paintThumb(el.querySelector("canvas"), this.thumbs.get(el.dataset.layer));
    this._mark(el);
  }

  _mark(el) {
    const layer = this.graph.byName.get(el.dataset.layer);
    const field = this.fields && this.fields.get(el.dataset.layer);
    el.classList.toggle("reached", Boolean(field));
    markBox(el.querySelector(".thumb"), field, layer.shape);
  }

  /** The node element showing a layer (itself or its folded module). */
  nodeOf(name) {
    return this.nodeEls.get(this.graph.owner(name, this.expanded));
  }
}
