// Keyboard: one tab stop per layer (its last-used map), the arrow keys move the selected unit — across the edge of
// a map into the next channel — and the selection is always the focused unit. Enter or Space pins, Escape clears.

const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

export class KeyNav {
  constructor(tracer, view) {
    this.tracer = tracer;
    this.view = view;
    this.fromPointer = false; // focus that a click or tap gave: the pointer selects, not the focus
    view.container.addEventListener("pointerdown", () => { this.fromPointer = true; });
    document.addEventListener("keydown", () => { this.fromPointer = false; }, true);
    view.container.addEventListener("focusin", (e) => this.#focus(e.target));
    view.container.addEventListener("keydown", (e) => this.#key(e));
  }

  #dims(canvas) {
    return { c: Number(canvas.dataset.channel), rows: Number(canvas.dataset.rows), cols: Number(canvas.dataset.cols) };
  }

  /** The selected unit when it is on this canvas: {y, x}, else null. */
  #onCanvas(canvas) {
    const sel = this.tracer.current();
    if (!sel || sel.name !== canvas.dataset.layer) return null;
    const cell = this.view.cellOf(sel.name, sel.unit);
    return cell.canvas === canvas ? cell : null;
  }

  /** Keyboard focus selects: keep the unit already selected on this map, else its centre unit (a click or tap
   * that focuses a map selects the unit under the pointer instead). */
  #focus(canvas) {
    if (!canvas.dataset || !canvas.dataset.layer) return;
    this.view.setTabStop(canvas);
    const pointer = this.fromPointer;
    this.fromPointer = false;
    if (pointer || this.#onCanvas(canvas)) return;
    this.tracer.pinned = false;
    const { c, rows, cols } = this.#dims(canvas);
    const name = canvas.dataset.layer;
    this.tracer.select(name, this.view.unitFromCell(name, c, Math.floor(rows / 2), Math.floor(cols / 2)) || [0], "key");
  }

  #key(e) {
    const canvas = e.target;
    if (!canvas.dataset || !canvas.dataset.layer) return;
    if (e.key === "Enter" || e.key === " ") {
      this.tracer.pinned = !this.tracer.pinned;
      e.preventDefault();
      return;
    }
    const move = MOVES[e.key];
    if (!move) return;
    e.preventDefault();
    const at = this.#onCanvas(canvas);
    if (!at) return this.#focus(canvas);
    this.#step(canvas, at, move);
  }

  #step(canvas, { y, x }, [dy, dx]) {
    const name = canvas.dataset.layer;
    const { c, rows, cols } = this.#dims(canvas);
    let [ny, nx, target] = [y + dy, x + dx, canvas];
    const maps = this.view.entry(name).canvases;
    if (dx && (nx < 0 || nx >= cols) && maps.length > 1) {
      const next = maps[c + dx]; // past the edge of a map: into the neighbouring channel, same row
      if (!next) return;
      [target, nx] = [next, dx > 0 ? 0 : cols - 1];
    }
    ny = Math.min(rows - 1, Math.max(0, ny));
    nx = Math.min(cols - 1, Math.max(0, nx));
    const unit = this.view.unitFromCell(name, Number(target.dataset.channel), ny, nx);
    if (!unit) return;
    this.tracer.pinned = false;
    this.tracer.select(name, unit, "key");
    if (target !== canvas) target.focus();
  }
}
