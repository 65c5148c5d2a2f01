// The kernel editor: classic presets, the trained network's own first-layer kernels, and cell-by-cell editing.
// A kernel has one F × F slice per input channel (a colour input has three); a 2-D preset fills every slice.
import { esc } from "../shared/escape.js";
import { checkKernelCell } from "./validate.js";

const copy = (slice) => slice.map((row) => row.slice());

function centred(old, size) {
  const off = (old.length - size) / 2;
  return Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => {
    const [oy, ox] = [y + off, x + off];
    return Number.isInteger(oy) && oy >= 0 && oy < old.length && ox >= 0 && ox < old.length ? old[oy][ox] : 0;
  }));
}

export class KernelEditor {
  constructor({ select, sizeSelect, grid, onChange }) {
    Object.assign(this, { select, sizeSelect, grid, onChange });
    this.presets = {};
    this.slices = [[[0, 0, 0], [0, 1, 0], [0, 0, 0]]];
    this.invalid = new Map(); // "c,y,x" → what is wrong with that cell's text (never silently kept at its old value)
    select.addEventListener("change", () => this.usePreset(select.value));
    sizeSelect.addEventListener("change", () => this.resize(Number(sizeSelect.value)));
  }

  /** What is wrong with the kernel's cells (a sentence), or "" when every cell holds a number the server accepts. */
  get problem() {
    const errors = [...new Set(this.invalid.values())];
    const n = this.invalid.size;
    return errors.length ? `${errors.join(" ")} (${n} kernel cell${n > 1 ? "s" : ""} marked.)` : "";
  }

  /** The kernel as [C][F][F]. */
  get values() {
    return this.slices;
  }

  /** kernels: {name: rows}; network: {name, kernels} with the trained first conv layer's kernels as [[rows], …]. */
  setPresets(kernels, network) {
    this.presets = { ...kernels };
    network.kernels.forEach((k, i) => { this.presets[`trained ${network.name} kernel ${i}`] = k; });
    this.select.innerHTML = Object.keys(this.presets).map((n) => `<option>${esc(n)}</option>`).join("")
      + "<option value=\"custom\">custom (edit the cells)</option>";
  }

  usePreset(name) {
    if (!this.presets[name]) return;
    this.select.value = name;
    this.slices = this.slices.map(() => copy(this.presets[name]));
    this.sizeSelect.value = String(this.presets[name].length);
    this.render();
    this.onChange();
  }

  /** Set every slice ([C][F][F]), as a worked example gives them. */
  set(slices) {
    this.slices = slices.map(copy);
    this.sizeSelect.value = String(slices[0].length);
    this.select.value = "custom";
    this.render();
  }

  /** Match the input's channel count: extra slices copy the first, missing ones are dropped. */
  setChannels(c) {
    if (c === this.slices.length) return;
    this.slices = Array.from({ length: c }, (_, i) => copy(this.slices[Math.min(i, this.slices.length - 1)]));
    this.render();
  }

  resize(size) {
    this.slices = this.slices.map((s) => centred(s, size));
    this.select.value = "custom";
    this.render();
    this.onChange();
  }

  #cell(c, y, x, v) {
    const input = document.createElement("input");
    input.type = "number";
    input.step = "0.1";
    input.value = Number.isInteger(v) ? v : v.toFixed(3);
    const channel = this.slices.length > 1 ? `channel ${c} ` : "";
    input.setAttribute("aria-label", `kernel ${channel}row ${y + 1} column ${x + 1}`);
    input.addEventListener("input", () => {
      const r = checkKernelCell(input.value);
      input.setAttribute("aria-invalid", String("error" in r));
      if ("error" in r) this.invalid.set(`${c},${y},${x}`, r.error);
      else {
        this.invalid.delete(`${c},${y},${x}`);
        this.slices[c][y][x] = r.value;
      }
      this.#showProblem();
      this.select.value = "custom";
      this.onChange();
    });
    return input;
  }

  /** The kernel's problem next to the editor (role=alert), or nothing. */
  #showProblem() {
    let note = document.getElementById("kernel-editor-error");
    if (!note) {
      note = document.createElement("p");
      note.id = "kernel-editor-error";
      note.className = "field-error";
      note.setAttribute("role", "alert");
      this.grid.insertAdjacentElement("afterend", note);
    }
    note.textContent = this.problem;
  }

  render() {
    this.invalid.clear(); // every cell is drawn afresh from the slices
    this.#showProblem();
    const n = this.slices[0].length;
    this.grid.replaceChildren(...this.slices.map((slice, c) => {
      const box = document.createElement("div");
      box.className = "kernel-slice";
      box.style.gridTemplateColumns = `repeat(${n}, 3.6rem)`;
      if (this.slices.length > 1) box.dataset.label = `channel ${c}`;
      box.append(...slice.flatMap((row, y) => row.map((v, x) => this.#cell(c, y, x, v))));
      return box;
    }));
  }
}
