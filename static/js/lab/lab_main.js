// The convolution lab: input → kernel (stride, padding) → activation → pooling → flattening, softmax and losses.
import { getLabPresets, getModel, postJson, predict } from "../shared/api.js";
import { CONFIG } from "../shared/config.js";
import { $ } from "../shared/dom.js";
import { DrawPad } from "../shared/draw.js";
import { friendly } from "../shared/errors.js";
import { LAB_ACTIVATIONS, firstOfKind } from "../shared/layers.js";
import { applyExample, onSettingsChange, readSettings, showApplicable } from "./controls.js";
import { explainConv, explainPool, flatHtml, outputSizeHtml, paddingMarks, poolCaption, windowMarks } from "./explain.js";
import { KernelEditor } from "./kernel_editor.js";
import { MapView } from "./maps.js";
import { SoftmaxPanel } from "./softmax.js";

const status = (m) => { $("lab-status").textContent = m || ""; };

/** The trained network's first convolution as kernel presets: {name, kernels: [[rows], …] per output channel}. */
function networkKernels(model) {
  const conv = firstOfKind(model.layers, "conv");
  const [out, , k] = conv.weight_shape;
  const kernels = Array.from({ length: out }, (_, o) => Array.from({ length: k }, (_, y) =>
    conv.weights.slice(o * k * k + y * k, o * k * k + (y + 1) * k)));
  return { name: conv.name, kernels };
}

/** The maps of step 4: they render a /lab/convolve result and explain the cell under the pointer. */
class LabMaps {
  constructor() {
    this.maps = Object.fromEntries(["input", "feature", "before", "activated", "pooled"]
      .map((n) => [n, new MapView($(`map-${n}`))]));
    this.result = null;
  }

  show(result) {
    this.result = result;
    const { maps } = this;
    $("output-size").innerHTML = outputSizeHtml(result.output_size);
    maps.input.render(result.padded.values, { marks: paddingMarks(result.padded.shape, result.padding) });
    maps.feature.render(result.feature_map.values, { onCell: (y, x) => this.#conv(y, x) });
    const range = Math.max(...result.feature_map.values.flat().map(Math.abs));
    maps.before.render(result.feature_map.values, { range });
    maps.activated.render(result.activated.values, { range });
    $("after-caption").textContent = `after ${LAB_ACTIVATIONS[result.activation]}`;
    if (result.pooled) {
      maps.pooled.render(result.pooled.values, { onCell: (y, x) => this.#pool(y, x) });
      $("pool-caption").textContent = poolCaption(result.pooled);
    } else {
      $("map-pooled").replaceChildren();
      $("pool-caption").textContent = "no pooling";
    }
    $("flat").innerHTML = flatHtml(result.flattened);
  }

  /** Nothing stale after an error: every map, the formula, the flattened list and the cell's arithmetic go. */
  clear() {
    this.result = null;
    for (const [name, view] of Object.entries(this.maps)) {
      Object.assign(view, { values: null, onCell: null });
      const el = $(`map-${name}`);
      el.replaceChildren();
      delete el.dataset.shape;
      delete el.dataset.sum;
    }
    $("output-size").textContent = "";
    $("flat").replaceChildren();
    $("lab-detail").innerHTML = '<p class="muted">Fix the setting marked above to see the maps again.</p>';
  }

  #conv(y, x) {
    const { window, html } = explainConv(this.result, y, x);
    this.maps.input.mark(windowMarks(window));
    this.maps.feature.mark({ [`${y},${x}`]: "winner" });
    $("lab-detail").innerHTML = html;
  }

  #pool(y, x) {
    const { window, winner, html } = explainPool(this.result, y, x);
    this.maps.activated.mark(windowMarks(window, winner));
    this.maps.pooled.mark({ [`${y},${x}`]: "winner" });
    $("lab-detail").innerHTML = html;
  }
}

/** The lab's state: the input image, the kernel and the debounced /lab/convolve request. */
class Lab {
  constructor(presets, model) {
    this.presets = presets;
    this.image = presets.examples.smiley.input; // replaced by the user's digit once drawn
    this.timer = 0;
    this.token = 0;
    this.maps = new LabMaps();
    this.editor = new KernelEditor({ select: $("kernel-preset"), sizeSelect: $("kernel-size"),
      grid: $("kernel-editor"), onChange: () => this.run() });
    this.editor.setPresets(presets.kernels, networkKernels(model));
  }

  /** Check the form, then (debounced) compute; an error clears every result, and late answers are dropped. */
  run() {
    clearTimeout(this.timer);
    const token = ++this.token;
    this.timer = setTimeout(async () => {
      const { body, errors } = readSettings(this.image, this.editor.values);
      if (errors) {
        this.maps.clear();
        status(`Nothing computed: ${Object.values(errors).join(" ")}`);
        return;
      }
      try {
        const result = await postJson("/lab/convolve", body);
        if (token !== this.token) return;
        status("");
        this.maps.show(result);
      } catch (err) {
        if (token !== this.token) return;
        this.maps.clear();
        status(`The lab could not compute this: ${friendly(err)}`);
      }
    }, 30);
  }

  /** Switch the input to the chosen source: a worked example (with its kernel and settings) or the user's digit. */
  useSource() {
    const source = $("source").value;
    $("pad-box").hidden = source !== "digit";
    const example = this.presets.examples[source];
    if (example) {
      this.image = example.input;
      this.editor.set(example.kernel);
      applyExample(example);
    } else {
      const saved = sessionStorage.getItem(CONFIG.savedInputKey);
      this.image = saved ? JSON.parse(saved) : this.presets.examples.smiley.input;
      $("example-note").textContent = saved ? "Using the digit you drew in the visualiser; draw a new one here."
        : "Draw a digit above.";
      if (this.editor.select.value === "custom") this.editor.usePreset("edge detect");
    }
    showApplicable();
    this.run();
  }

  /** The lab's own pad: a finished drawing is preprocessed by the server to 28×28 and becomes the input. */
  wirePad() {
    const pad = new DrawPad($("lab-pad"), {
      onChange: async (final) => {
        if (!final || pad.isEmpty() || $("source").value !== "digit") return;
        try {
          const blob = pad.toBlob();
          if (!blob) return; // everything erased
          const r = await predict({ blob }, { steps: false, layers: [] });
          this.image = r.input;
          this.run();
        } catch (err) {
          status(friendly(err));
        }
      },
    });
    pad.setBrush(12);
    $("lab-clear").addEventListener("click", () => pad.clear());
  }
}

function wireSoftmax() {
  const softmax = new SoftmaxPanel({ scoresEl: $("scores"), labelEl: $("label"), outEl: $("softmax-out"),
    chart: $("loss-chart"), compute: (scores, label) => postJson("/lab/softmax", { scores, label }) });
  softmax.update();
}

async function main() {
  const [presets, model] = await Promise.all([getLabPresets(), getModel()]);
  const lab = new Lab(presets, model);
  lab.wirePad();
  $("source").addEventListener("change", () => lab.useSource());
  onSettingsChange(() => lab.run());
  wireSoftmax();
  $("source").value = sessionStorage.getItem(CONFIG.savedInputKey) ? "digit" : "smiley";
  lab.editor.usePreset("edge detect");
  lab.useSource();
  document.body.dataset.ready = "true";
}

main().catch((err) => { document.getElementById("lab-status").textContent = `The lab could not start: ${err.message}`; });
