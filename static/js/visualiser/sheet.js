// Below a laptop's size the arithmetic is a bottom sheet: it opens over the page where the user tapped (the tapped
// unit is scrolled above it), and layers zoom so that each unit is a finger-sized target.

const NARROW = "(max-width: 999px), (max-height: 599px)";

export class Sheet {
  /** panel: the detail panel (the sheet); view: the NetworkView; onClose(): called when the user closes it. */
  constructor(panel, closeButton, view, onClose) {
    this.panel = panel;
    this.view = view;
    this.media = window.matchMedia(NARROW);
    closeButton.addEventListener("click", () => { this.close(); onClose(); });
  }

  get narrow() {
    return this.media.matches;
  }

  /** A finger's first tap on a small layer zooms it (and says so); returns true when it did. */
  tapGate(canvas) {
    const name = canvas.dataset.layer;
    if (!this.narrow || this.view.isZoomed(name)) return false;
    this.view.setZoom(name, true);
    canvas.scrollIntoView({ block: "nearest", inline: "center" });
    return true;
  }

  /** Open the sheet for a selected unit (on narrow screens) and keep that unit in view above it. */
  open(name, unit) {
    if (!this.narrow) return;
    this.panel.classList.add("open");
    document.body.classList.add("sheet-open");
    const { canvas, y } = this.view.cellOf(name, unit);
    const r = canvas.getBoundingClientRect();
    const cellBottom = r.top + ((y + 1) / Number(canvas.dataset.rows)) * r.height;
    const sheetTop = window.innerHeight - this.panel.getBoundingClientRect().height;
    if (cellBottom > sheetTop - 8) window.scrollBy({ top: cellBottom - sheetTop + 16, behavior: "instant" });
    const cellTop = r.top + (y / Number(canvas.dataset.rows)) * r.height;
    if (cellTop < 0) window.scrollBy({ top: cellTop - 16, behavior: "instant" });
    this.panel.scrollTop = 0;
  }

  close() {
    this.panel.classList.remove("open");
    document.body.classList.remove("sheet-open");
  }
}
