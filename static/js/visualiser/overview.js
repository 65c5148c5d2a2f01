// The overview strip: one mini row per layer, in forward order. It jumps to a layer, marks the layers in view and
// shows where the selected unit's field falls in every layer, so nothing has to be scrolled to see it. A graph of
// any model (branches, merges) can take its place: it needs only a node per layer, jump(), inView() and field().
import { isSpatial } from "../shared/geometry.js";
import { roving } from "../shared/roving.js";

/** Position [x0, y0, x1, y1] (inclusive cells) on a cols × rows grid as CSS percentages. */
function placePercent(el, [x0, y0, x1, y1], cols, rows) {
  el.style.left = `${(x0 / cols) * 100}%`;
  el.style.top = `${(y0 / rows) * 100}%`;
  el.style.width = `${((x1 - x0 + 1) / cols) * 100}%`;
  el.style.height = `${((y1 - y0 + 1) / rows) * 100}%`;
}

export class Overview {
  /** container: the <nav>; view: the NetworkView (rows to jump to); scroller: the element the network scrolls in. */
  constructor(container, view, scroller) {
    this.view = view;
    this.items = new Map(); // name → {li, mini, box, layer}
    const list = document.createElement("ol");
    for (const layer of view.layers) list.append(this.#item(layer));
    container.replaceChildren(list);
    roving(list, "button");
    this.#observe(scroller);
  }

  #item(layer) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.overview = layer.name;
    button.setAttribute("aria-label", `Jump to ${layer.name} (${layer.kind}, ${layer.shape.join("×")})`);
    const name = document.createElement("span");
    name.textContent = layer.name;
    const mini = document.createElement("span");
    mini.className = `mini${isSpatial(layer) ? " spatial" : ""}`;
    const box = document.createElement("span");
    box.className = "mini-field";
    box.hidden = true;
    mini.append(box);
    button.append(name, mini);
    button.addEventListener("click", () => this.jump(layer.name));
    li.append(button);
    this.items.set(layer.name, { li, box, layer });
    return li;
  }

  /** Scroll the network to a layer and put the keyboard on its maps. */
  jump(name) {
    const entry = this.view.entry(name);
    entry.row.scrollIntoView({ block: "start" });
    const stop = entry.canvases.find((c) => c.tabIndex === 0) || entry.canvases[0];
    stop.focus({ preventScroll: true });
  }

  #observe(scroller) {
    if (!("IntersectionObserver" in window)) return;
    const observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const item = this.items.get(e.target.dataset.layerRow);
        if (item) item.li.classList.toggle("in-view", e.isIntersecting);
      }
    }, { root: scroller, threshold: 0 });
    for (const layer of this.view.layers) observer.observe(this.view.entry(layer.name).row);
  }

  /** Mark the selected unit and its field ({name, unit, regions} from the tracer), or clear them (null). */
  field(selection) {
    for (const item of this.items.values()) {
      item.box.hidden = true;
      item.box.classList.remove("unit");
      item.li.classList.remove("selected");
    }
    if (!selection) return;
    const own = this.items.get(selection.name);
    own.li.classList.add("selected");
    const cell = this.view.cellOf(selection.name, selection.unit);
    this.#show(own, [cell.x, cell.y, cell.x, cell.y], true);
    for (const r of selection.regions) {
      const item = this.items.get(r.layer);
      if (r.box) this.#show(item, r.box, false);
      else if (r.channels && r.channels.length === 1 && !isSpatial(item.layer)) {
        const at = this.view.cellOf(r.layer, r.channels);
        this.#show(item, [at.x, at.y, at.x, at.y], false);
      } else this.#show(item, null, false);
    }
  }

  #show(item, box, unit) {
    const entry = this.view.entry(item.layer.name);
    placePercent(item.box, box || [0, 0, entry.cols - 1, entry.rows - 1], entry.cols, entry.rows);
    item.box.classList.toggle("unit", unit);
    item.box.hidden = false;
  }
}
