// Drawing pad: mouse, touch and pen through pointer events; brush size, eraser, undo and clear.
import { greyBmp, hasInk } from "./bmp.js";
import { PALETTE } from "./colors.js";
import { CONFIG } from "./config.js";

export class DrawPad {
  constructor(canvas, { onChange }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.strokes = []; // each {erase, width, points: [[x, y], …]}, replayed for undo
    this.current = null;
    this.brush = CONFIG.pad.brush;
    this.erasing = false;
    this.background = null; // an uploaded image drawn under the strokes
    this.clear(false);
    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    for (const type of ["pointerup", "pointercancel"]) canvas.addEventListener(type, (e) => this.#up(e));
    canvas.style.touchAction = "none"; // no scrolling or zooming while drawing with a finger
  }

  #point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [((e.clientX - rect.left) / rect.width) * this.canvas.width,
      ((e.clientY - rect.top) / rect.height) * this.canvas.height];
  }

  #down(e) {
    if (e.button !== undefined && e.button > 0) return;
    this.canvas.setPointerCapture(e.pointerId);
    // Pen pressure widens the stroke a little; mice report 0.5.
    const pressure = e.pointerType === "pen" && e.pressure > 0 ? 0.6 + e.pressure * 0.8 : 1;
    this.current = { erase: this.erasing, width: this.brush * pressure, points: [this.#point(e)] };
    this.strokes.push(this.current);
    this.#drawStroke(this.current);
    this.onChange(false);
  }

  #move(e) {
    if (!this.current) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) this.current.points.push(this.#point(ev));
    this.#drawStroke(this.current, Math.max(0, this.current.points.length - events.length - 1));
    this.onChange(false);
  }

  #up() {
    if (!this.current) return;
    this.current = null;
    this.onChange(true);
  }

  #drawStroke(stroke, from = 0) {
    const ctx = this.ctx;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = stroke.width;
    ctx.strokeStyle = stroke.erase ? PALETTE.padPaper : PALETTE.padInk;
    ctx.fillStyle = ctx.strokeStyle;
    const pts = stroke.points;
    if (pts.length === 1) {
      ctx.beginPath();
      ctx.arc(pts[0][0], pts[0][1], stroke.width / 2, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    ctx.beginPath();
    ctx.moveTo(...pts[Math.max(0, from)]);
    for (let i = Math.max(1, from + 1); i < pts.length; i++) ctx.lineTo(...pts[i]);
    ctx.stroke();
  }

  #redraw() {
    const { ctx, canvas } = this;
    ctx.fillStyle = PALETTE.padPaper;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (this.background) ctx.drawImage(this.background, 0, 0, canvas.width, canvas.height);
    for (const s of this.strokes) this.#drawStroke(s);
  }

  setBrush(width) { this.brush = width; }
  setEraser(on) { this.erasing = on; }

  undo() {
    if (!this.strokes.length) return;
    this.strokes.pop();
    this.#redraw();
    this.onChange(true);
  }

  clear(notify = true) {
    this.strokes = [];
    this.background = null;
    this.#redraw();
    if (notify) this.onChange(true);
  }

  /** Show an uploaded image or gallery digit, scaled to fit, so the user can keep drawing on it. */
  setBackground(image) {
    this.strokes = [];
    this.background = image;
    this.#redraw();
  }

  isEmpty() {
    return !this.background && !this.strokes.some((s) => !s.erase);
  }

  /**
   * The drawing as an 8-bit greyscale BMP at CONFIG.pad.upload px, built synchronously: no async PNG encoder in
   * the live path, and the server still does all of MNIST's preprocessing on it. Null when no ink is left (e.g.
   * everything erased), so nothing blank is ever sent.
   */
  toBlob() {
    const side = CONFIG.pad.upload;
    if (!this.small) {
      this.small = document.createElement("canvas");
      this.small.width = side;
      this.small.height = side;
      this.smallCtx = this.small.getContext("2d", { willReadFrequently: true });
    }
    this.smallCtx.drawImage(this.canvas, 0, 0, side, side);
    const image = this.smallCtx.getImageData(0, 0, side, side);
    return hasInk(image) ? greyBmp(image) : null;
  }
}
