// The kernel editor: classic presets, the trained network's own first-layer kernels, and cell-by-cell editing.
import { esc } from "../shared/escape.js";

export class KernelEditor {
  constructor({ select, sizeSelect, grid, onChange }) {
    this.select = select;
    this.sizeSelect = sizeSelect;
    this.grid = grid;
    this.onChange = onChange;
    this.presets = {};
    this.values = [[0, 0, 0], [0, 1, 0], [0, 0, 0]];
    select.addEventListener("change", () => this.usePreset(select.value));
    sizeSelect.addEventListener("change", () => this.resize(Number(sizeSelect.value)));
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
    this.values = this.presets[name].map((row) => row.slice());
    this.sizeSelect.value = String(this.values.length);
    this.render();
    this.onChange();
  }

  set(values) {
    this.values = values.map((row) => row.slice());
    this.sizeSelect.value = String(values.length);
    this.select.value = "custom";
    this.render();
  }

  resize(size) {
    const old = this.values;
    const off = (old.length - size) / 2;
    this.values = Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => {
      const oy = y + off;
      const ox = x + off;
      return Number.isInteger(oy) && oy >= 0 && oy < old.length && ox >= 0 && ox < old.length ? old[oy][ox] : 0;
    }));
    this.select.value = "custom";
    this.render();
    this.onChange();
  }

  render() {
    const n = this.values.length;
    this.grid.style.gridTemplateColumns = `repeat(${n}, 3.6rem)`;
    this.grid.replaceChildren(...this.values.flatMap((row, y) => row.map((v, x) => {
      const input = document.createElement("input");
      input.type = "number";
      input.step = "0.1";
      input.value = Number.isInteger(v) ? v : v.toFixed(3);
      input.setAttribute("aria-label", `kernel row ${y + 1} column ${x + 1}`);
      input.addEventListener("input", () => {
        const num = Number(input.value);
        if (input.value === "" || !Number.isFinite(num)) return;
        this.values[y][x] = num;
        this.select.value = "custom";
        this.onChange();
      });
      return input;
    })));
  }
}
