// The graph page's input: a colour brush on a canvas (each finished stroke is sent as a PNG), an upload by file
// picker, drag and drop or paste (the image is shown on the pad and sent as it is: the server resizes and crops).
import { setupUpload } from "../visualiser/input_panel.js";

const PAPER = "#ffffff";

export class InputPad {
  /** onInput(blob) for every new input; onError(message) for a file the browser cannot read. */
  constructor(canvas, { colour, brush, clear, upload, drop, onInput, onError }) {
    Object.assign(this, { canvas, colour, brush, onInput });
    this.ctx = canvas.getContext("2d");
    this.clear();
    this.last = null;
    canvas.addEventListener("pointerdown", (e) => this._down(e));
    canvas.addEventListener("pointermove", (e) => this._move(e));
    for (const type of ["pointerup", "pointercancel"]) canvas.addEventListener(type, () => this._up());
    clear.addEventListener("click", () => this.clear());
    setupUpload(upload, drop, (file, image) => this.take(file, image), onError);
    document.addEventListener("paste", (e) => {
      const item = Array.from(e.clipboardData ? e.clipboardData.items : []).find((i) => i.type.startsWith("image/"));
      if (!item) return;
      e.preventDefault();
      const file = item.getAsFile();
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => { this.take(file, img); URL.revokeObjectURL(url); };
      img.onerror = () => { onError("The pasted image could not be read."); URL.revokeObjectURL(url); };
      img.src = url;
    });
  }

  clear() {
    this.ctx.fillStyle = PAPER;
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** A file from the picker, a drop or a paste: shown on the pad (covering it, centred), sent as it is. */
  take(file, image) {
    if (image) {
      const { width: W, height: H } = this.canvas;
      const s = Math.max(W / image.width, H / image.height);
      this.clear();
      this.ctx.drawImage(image, (W - image.width * s) / 2, (H - image.height * s) / 2, image.width * s, image.height * s);
    }
    this.onInput(file);
  }

  _point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.canvas.width, ((e.clientY - r.top) / r.height) * this.canvas.height];
  }

  _down(e) {
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this._point(e);
    this._line(this.last, this.last);
  }

  _move(e) {
    if (!this.last) return;
    const p = this._point(e);
    this._line(this.last, p);
    this.last = p;
  }

  _line(a, b) {
    const ctx = this.ctx;
    ctx.strokeStyle = this.colour.value;
    ctx.lineWidth = Number(this.brush.value);
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }

  _up() {
    if (!this.last) return;
    this.last = null;
    this.canvas.toBlob((blob) => blob && this.onInput(blob), "image/png");
  }
}
