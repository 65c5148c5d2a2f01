// Softmax and cross-entropy: edit scores, pick the true label, compare cross-entropy with mean squared error by
// their values and, what decides training, their gradients with respect to each score.
import { PALETTE, rgbCss } from "../shared/colors.js";
import { esc } from "../shared/escape.js";
import { compact } from "../shared/format.js";
import { lineChart } from "./charts.js";

const DEFAULT_SCORES = [1.2, -0.4, 0.3, 2.5, -1.0, 0.0, 0.8, 4.1, -0.2, 0.6];
const n4 = (v) => esc(Number(v).toPrecision(4));

/** The table of scores, exponentials, probabilities and both gradients, the true class highlighted. */
export function softmaxTable(r) {
  const rows = r.probabilities.map((p, i) => `<tr class="${i === r.label ? "sel" : ""}"><td>${i}</td>
      <td>${esc(compact(r.scores[i]))}</td><td>${r.exponentials[i].toFixed(4)}</td><td>${p.toFixed(4)}</td>
      <td>${esc(r.one_hot[i])}</td><td data-role="ce-grad" data-value="${esc(r.gradients.cross_entropy[i])}">${
  n4(r.gradients.cross_entropy[i])}</td><td data-role="mse-grad" data-value="${esc(r.gradients.mse[i])}">${
  n4(r.gradients.mse[i])}</td></tr>`).join("");
  return `<table class="contrib"><thead><tr><th>digit</th><th>score z</th><th>e^(z − max)</th><th>probability p</th>
      <th>true y</th><th>∂CE/∂z = p − y</th><th>∂MSE/∂z</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The two losses written out for the true label, and the note on why the gradients decide. */
export function lossesHtml(r) {
  const label = r.label;
  return `<p class="eq">cross-entropy = −ln p(${label}) = −ln ${r.probabilities[label].toFixed(4)} =
        <b data-role="ce" data-value="${esc(r.cross_entropy)}">${r.cross_entropy.toFixed(4)}</b><br>
        mean squared error vs one-hot = (1/${r.scores.length}) Σ (p − y)² =
        <b data-role="mse" data-value="${esc(r.mse)}">${r.mse.toFixed(4)}</b><br>
        gradient on the true score: cross-entropy <b>${n4(r.gradients.cross_entropy[label])}</b>,
        MSE <b>${n4(r.gradients.mse[label])}</b></p>
      <p class="muted" data-role="loss-note">${esc(r.note)}.</p>`;
}

export class SoftmaxPanel {
  constructor({ scoresEl, labelEl, outEl, lossChart, gradChart, compute }) {
    Object.assign(this, { scoresEl, labelEl, outEl, lossChart, gradChart, compute });
    this.inputs = DEFAULT_SCORES.map((s, i) => {
      const label = document.createElement("label");
      label.innerHTML = `<span>${i}</span>`;
      const input = document.createElement("input");
      Object.assign(input, { type: "number", step: "0.5", value: s });
      input.setAttribute("aria-label", `score of digit ${i}`);
      input.addEventListener("input", () => this.update());
      label.append(input);
      scoresEl.append(label);
      return input;
    });
    labelEl.innerHTML = DEFAULT_SCORES.map((_, i) => `<option ${i === 7 ? "selected" : ""}>${i}</option>`).join("");
    labelEl.addEventListener("change", () => this.update());
  }

  async update() {
    const scores = this.inputs.map((i) => Number(i.value));
    if (scores.some((s) => !Number.isFinite(s) || Math.abs(s) > 100)) return;
    const r = await this.compute(scores, Number(this.labelEl.value));
    this.outEl.innerHTML = softmaxTable(r) + lossesHtml(r);
    this.#charts(r);
  }

  #charts(r) {
    const p = r.probabilities[r.label];
    const ce = rgbCss(PALETTE.positive);
    const mse = rgbCss(PALETTE.negative);
    lineChart(this.lossChart, {
      xs: r.sweep.p_true, xLabel: "p(true class) →", yLabel: "loss",
      series: [{ ys: r.sweep.cross_entropy, color: ce, name: "cross-entropy" },
        { ys: r.sweep.mse, color: mse, name: "mean squared error" }],
      marker: { x: p, points: [{ y: r.cross_entropy, color: ce }, { y: r.mse, color: mse }] },
    });
    lineChart(this.gradChart, {
      xs: r.sweep.p_true, xLabel: "p(true class) →", yLabel: "∂loss/∂z(true)",
      series: [{ ys: r.sweep.cross_entropy_gradient, color: ce, name: "cross-entropy: p − 1" },
        { ys: r.sweep.mse_gradient, color: mse, name: "MSE through softmax" }],
      marker: { x: p, points: [{ y: r.gradients.cross_entropy[r.label], color: ce },
        { y: r.gradients.mse[r.label], color: mse }] },
    });
  }
}
