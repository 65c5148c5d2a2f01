// Softmax and cross-entropy: edit scores, pick the true label, compare cross-entropy with mean squared error.
import { PALETTE, rgbCss } from "../shared/colors.js";
import { esc } from "../shared/escape.js";
import { compact } from "../shared/format.js";

export class SoftmaxPanel {
  constructor({ scoresEl, labelEl, outEl, chart, compute }) {
    this.scoresEl = scoresEl;
    this.labelEl = labelEl;
    this.outEl = outEl;
    this.chart = chart;
    this.compute = compute; // (scores, label) → Promise<result>
    this.scores = [1.2, -0.4, 0.3, 2.5, -1.0, 0.0, 0.8, 4.1, -0.2, 0.6];
    this.inputs = this.scores.map((s, i) => {
      const label = document.createElement("label");
      label.innerHTML = `<span>${i}</span>`;
      const input = document.createElement("input");
      input.type = "number";
      input.step = "0.5";
      input.value = s;
      input.setAttribute("aria-label", `score of digit ${i}`);
      input.addEventListener("input", () => this.update());
      label.append(input);
      scoresEl.append(label);
      return input;
    });
    labelEl.innerHTML = this.scores.map((_, i) => `<option ${i === 7 ? "selected" : ""}>${i}</option>`).join("");
    labelEl.addEventListener("change", () => this.update());
  }

  async update() {
    const scores = this.inputs.map((i) => Number(i.value));
    if (scores.some((s) => !Number.isFinite(s) || Math.abs(s) > 100)) return;
    const label = Number(this.labelEl.value);
    const r = await this.compute(scores, label);
    const rows = r.probabilities.map((p, i) => `<tr class="${i === label ? "sel" : ""}"><td>${i}</td>
      <td>${esc(compact(r.scores[i]))}</td><td>${r.exponentials[i].toFixed(4)}</td><td>${p.toFixed(4)}</td>
      <td>${esc(r.one_hot[i])}</td></tr>`).join("");
    this.outEl.innerHTML = `<table class="contrib"><thead><tr><th>digit</th><th>score</th><th>e^(score − max)</th>
      <th>probability</th><th>true</th></tr></thead><tbody>${rows}</tbody></table>
      <p class="eq">cross-entropy = −ln p(${label}) = −ln ${r.probabilities[label].toFixed(4)} =
        <b data-role="ce" data-value="${esc(r.cross_entropy)}">${r.cross_entropy.toFixed(4)}</b><br>
        mean squared error vs one-hot = <b data-role="mse" data-value="${esc(r.mse)}">${r.mse.toFixed(4)}</b></p>
      <p class="muted">${esc(r.note)}.</p>`;
    this.#chart(r.sweep, r.probabilities[label]);
  }

  #chart(sweep, current) {
    const c = this.chart;
    const ctx = c.getContext("2d");
    const w = c.width;
    const h = c.height;
    const pad = 28;
    ctx.clearRect(0, 0, w, h);
    const maxY = Math.max(...sweep.cross_entropy);
    const px = (p) => pad + p * (w - 2 * pad);
    const py = (v) => h - pad - (v / maxY) * (h - 2 * pad);
    ctx.strokeStyle = PALETTE.chartAxis;
    ctx.beginPath();
    ctx.moveTo(pad, pad / 2);
    ctx.lineTo(pad, h - pad);
    ctx.lineTo(w - pad / 2, h - pad);
    ctx.stroke();
    ctx.fillStyle = PALETTE.chartText;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText("p(true class) →", w - 110, h - 8);
    ctx.fillText("0", pad - 4, h - 14);
    ctx.fillText("1", w - pad - 4, h - 14);
    ctx.fillText(`loss (max ${maxY.toFixed(1)})`, pad + 4, 12);
    const line = (ys, color, name, y) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      sweep.p_true.forEach((p, i) => (i ? ctx.lineTo(px(p), py(ys[i])) : ctx.moveTo(px(p), py(ys[i]))));
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.fillText(name, w - 150, y);
    };
    line(sweep.cross_entropy, rgbCss(PALETTE.positive), "cross-entropy", 30);
    line(sweep.mse, rgbCss(PALETTE.negative), "mean squared error", 46);
    ctx.strokeStyle = PALETTE.chartMarker;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(px(current), pad / 2);
    ctx.lineTo(px(current), h - pad);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}
