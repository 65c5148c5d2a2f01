// The prediction: the top digit, large, and all ten probabilities as bars (announced via aria-live).
// With a calibrated model the bars and "% sure" use softmax(logits / T) (the network's own softmax layer stays at
// T = 1 in the layer views), and a small cue says when the input does not look like a digit or names the runner-up.
import { percent } from "../shared/format.js";

/** The cue's text: "" when the model is sure of a digit. */
export function cueText(confidence) {
  if (!confidence) return "";
  const parts = [];
  if (!confidence.looks_like_digit) parts.push("does not look like a digit");
  if (confidence.runner_up) {
    parts.push(`or ${confidence.runner_up.index}? (${percent(confidence.runner_up.probability, 0)})`);
  }
  return parts.join(" · ");
}

export class PredictionView {
  constructor({ digit, confidence, cue, bars }) {
    this.digit = digit;
    this.confidence = confidence;
    this.cue = cue;
    this.bars = bars;
    this.items = [];
    for (let d = 0; d < 10; d++) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="d">${d}</span><span class="track"><i></i></span><span class="p">–</span>`;
      this.bars.append(li);
      this.items.push(li);
    }
  }

  show(prediction, raw, confidence = null) {
    const probabilities = confidence ? confidence.probabilities : raw;
    this.digit.textContent = String(prediction);
    if (this.cue) {
      this.cue.textContent = cueText(confidence);
      this.cue.title = confidence
        ? `energy score ${confidence.score.toFixed(2)} (a digit scores ≥ ${confidence.threshold.toFixed(2)}); ` +
          `probabilities calibrated with temperature ${confidence.temperature.toFixed(2)}`
        : "";
      this.cue.classList.toggle("warn", Boolean(confidence && !confidence.looks_like_digit));
    }
    this.#mini(String(prediction), percent(probabilities[prediction], 0));
    this.confidence.textContent = `${(probabilities[prediction] * 100).toFixed(1)} % sure`;
    this.items.forEach((li, d) => {
      const p = probabilities[d];
      li.querySelector("i").style.height = `${(p * 100).toFixed(2)}%`;
      li.title = `${d}: ${percent(p)}`;
      li.querySelector(".p").textContent = percent(p);
      li.classList.toggle("win", d === prediction); // not "top": that is the page header's class
      li.setAttribute("aria-label", `digit ${d}: ${(p * 100).toFixed(1)} percent`);
    });
  }

  /** The compact copy that stays in view on phones while the user draws (hidden from screen readers). */
  #mini(digit, confidence) {
    const d = document.getElementById("mini-digit");
    if (!d) return;
    d.textContent = digit;
    document.getElementById("mini-conf").textContent = confidence;
  }

  clear() {
    this.#mini("–", "");
    if (this.cue) this.cue.textContent = "";
    this.digit.textContent = "";
    this.confidence.textContent = "";
    for (const li of this.items) {
      li.querySelector("i").style.height = "0";
      li.querySelector(".p").textContent = "–";
      li.classList.remove("win");
      li.removeAttribute("aria-label");
    }
  }
}
