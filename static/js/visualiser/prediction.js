// The prediction: the top digit, large, and all ten probabilities as bars (announced via aria-live).
import { percent } from "../shared/format.js";

export class PredictionView {
  constructor({ digit, confidence, bars }) {
    this.digit = digit;
    this.confidence = confidence;
    this.bars = bars;
    this.items = [];
    for (let d = 0; d < 10; d++) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="d">${d}</span><span class="track"><i></i></span><span class="p">–</span>`;
      this.bars.append(li);
      this.items.push(li);
    }
  }

  show(prediction, probabilities) {
    this.digit.textContent = String(prediction);
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
