// Step 4 of the lab: render a /api/v2/lab/convolve answer (input, per-channel products, feature map, activation and
// the four activations side by side, pooling with both size formulas, flattening, dropout) and explain the cell
// under the pointer.
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { LAB_ACTIVATIONS } from "../shared/layers.js";
import { ChannelStrip } from "./channels.js";
import { activationCaption, dropoutHtml, flatHtml, outputSizeHtml, poolCaption, poolSizeHtml } from "./describe.js";
import { boxMarks, cellMarks, explainConv, explainPool, paddingMarks } from "./explain.js";
import { MapView } from "./maps.js";

const SIDE_BY_SIDE = ["relu", "leaky_relu", "tanh", "sigmoid"];

/** Whether every value is a pixel intensity in 0…1 (then the input is drawn in the visualiser's grey). */
export function isPixels(maps) {
  return maps.every((plane) => plane.every((row) => row.every((v) => v >= 0 && v <= 1)));
}

export class ChainView {
  constructor() {
    this.maps = Object.fromEntries(["input", "feature", "before", "activated", "pooled"]
      .map((n) => [n, new MapView($(`map-${n}`))]));
    this.side = Object.fromEntries(SIDE_BY_SIDE.map((n) => [n, new MapView($(`act-${n}`))]));
    this.strip = new ChannelStrip($("chain-channels"));
    this.result = null;
  }

  show(result) {
    this.result = result;
    const { maps } = this;
    const grey = isPixels(result.input);
    const [, h, w] = [result.padded.length, result.padded[0].length, result.padded[0][0].length];
    $("output-size").innerHTML = outputSizeHtml(result.output_size);
    maps.input.render(result.padded[0], { grey, marks: paddingMarks([h, w], result.padding) });
    $("input-caption").textContent = result.padded.length > 1
      ? `input channel 0 of ${result.padded.length} (all channels below; zero padding shaded)` : "input (zero padding shaded)";
    this.#channels(result, grey);
    maps.feature.render(result.feature_map, { onCell: (y, x) => this.#conv(y, x) });
    const range = Math.max(...result.feature_map.flat().map(Math.abs));
    maps.before.render(result.feature_map, { range });
    maps.activated.render(result.activated, { range });
    $("after-caption").textContent = activationCaption(LAB_ACTIVATIONS[result.activation]);
    for (const name of SIDE_BY_SIDE) this.side[name].render(result.activations[name], { range });
    this.#pooled(result.pooled);
    $("flat").innerHTML = flatHtml(result.flattened);
    $("dropout").innerHTML = dropoutHtml(result.dropout);
  }

  /** Nothing stale after an error: every map, formula, caption, the flattened list and the cell's arithmetic go. */
  clear(message = "Fix the setting marked above to see the maps again.") {
    this.result = null;
    for (const view of [...Object.values(this.maps), ...Object.values(this.side)]) {
      Object.assign(view, { values: null, onCell: null });
      const el = view.container;
      el.replaceChildren();
      for (const key of ["shape", "sum", "scale"]) delete el.dataset[key];
    }
    this.strip.clear();
    for (const id of ["output-size", "pool-formula", "pool-caption"]) $(id).textContent = "";
    $("flat").replaceChildren();
    $("dropout").replaceChildren();
    $("lab-detail").innerHTML = `<p class="muted">${esc(message)}</p>`;
  }

  #channels(result, grey) {
    if (result.padded.length === 1) {
      this.strip.clear();
      return;
    }
    this.strip.render(result.padded.map((plane, c) => ({
      label: `input channel ${c}`, input: plane, padding: result.padding, kernel: result.kernel[c],
      products: result.per_channel[c],
    })), { grey });
  }

  #pooled(pooled) {
    if (pooled) {
      this.maps.pooled.render(pooled.values, { onCell: (y, x) => this.#pool(y, x) });
      $("pool-caption").textContent = poolCaption(pooled);
      $("pool-formula").innerHTML = poolSizeHtml(pooled);
    } else {
      $("map-pooled").replaceChildren();
      $("pool-caption").textContent = "no pooling";
      $("pool-formula").textContent = "";
    }
  }

  #conv(y, x) {
    const { cells, html } = explainConv(this.result, y, x);
    this.maps.input.mark(cellMarks(cells));
    for (const [input, , products] of this.strip.views) {
      input.mark(cellMarks(cells));
      products.mark({ [`${y},${x}`]: "winner" });
    }
    this.maps.feature.mark({ [`${y},${x}`]: "winner" });
    $("lab-detail").innerHTML = html;
  }

  #pool(y, x) {
    const { box, winner, html } = explainPool(this.result, y, x);
    this.maps.activated.mark(boxMarks(box, winner));
    this.maps.pooled.mark({ [`${y},${x}`]: "winner" });
    $("lab-detail").innerHTML = html;
  }
}
