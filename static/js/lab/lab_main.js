// The convolution lab: input → kernel (stride, padding, dilation) → activation → pooling → flattening → dropout,
// softmax and losses, and the live network's own convolution and pooling layers. Numbers from /api/v2/lab.
import { getModel } from "../shared/api.js";
import { showBusyNotes } from "../shared/busy.js";
import { CONFIG } from "../shared/config.js";
import { $ } from "../shared/dom.js";
import { DrawPad } from "../shared/draw.js";
import { friendly } from "../shared/errors.js";
import { firstOfKind } from "../shared/layers.js";
import { ChainView } from "./chain_view.js";
import { applyExample, onSettingsChange, readSettings, showApplicable } from "./controls.js";
import { KernelEditor } from "./kernel_editor.js";
import { convolve, getPresets, prepareDigit, sampleDigit, softmax } from "./lab_api.js";
import { LivePanel } from "./live.js";
import { SoftmaxPanel } from "./softmax.js";

const status = (m) => { $("lab-status").textContent = m || ""; };

/** The trained network's first convolution as kernel presets: {name, kernels: [[rows], …] per output channel}. */
async function networkKernels() {
  try {
    const conv = firstOfKind((await getModel()).layers, "conv");
    const [out, , k] = conv.weight_shape;
    const kernels = Array.from({ length: out }, (_, o) => Array.from({ length: k }, (_, y) =>
      conv.weights.slice(o * k * k + y * k, o * k * k + (y + 1) * k)));
    return { name: conv.name, kernels };
  } catch {
    return { name: "", kernels: [] }; // a model the v1 API does not serve: no trained presets
  }
}

/** The saved visualiser input (28×28 pixels), or null. */
function savedDigit() {
  const saved = sessionStorage.getItem(CONFIG.savedInputKey);
  return saved ? JSON.parse(saved) : null;
}

/** The lab's state: the input channels, the kernel, the debounced convolve request, the live panel's input. */
class Lab {
  constructor(presets, network, sample) {
    this.presets = presets;
    this.sample = sample.pixels; // an MNIST test digit, until the student draws or brings one
    this.digit = savedDigit();
    this.digitText = this.digit ? "the digit you drew in the visualiser"
      : `MNIST test digit #${sample.id}, a ${sample.label} (draw your own in step 1)`;
    this.drawn = false;
    this.image = presets.examples.smiley.input;
    this.timer = 0;
    this.token = 0;
    this.chain = new ChainView();
    this.editor = new KernelEditor({ select: $("kernel-preset"), sizeSelect: $("kernel-size"),
      grid: $("kernel-editor"), onChange: () => this.run() });
    this.editor.setPresets(presets.kernels, network);
    this.live = new LivePanel({ input: (info) => this.liveInput(info) });
  }

  /** Check the form, then (debounced) compute; an error clears every result, and late answers are dropped. */
  run() {
    clearTimeout(this.timer);
    const token = ++this.token;
    this.timer = setTimeout(async () => {
      this.editor.setChannels(this.image.length);
      const { body, errors } = readSettings(this.image, this.editor.values);
      const problems = [...Object.values(errors ?? {}), this.editor.problem].filter(Boolean);
      if (problems.length) {
        this.chain.clear();
        status(`Nothing computed: ${problems.join(" ")}`);
        return;
      }
      try {
        const result = await convolve(body);
        if (token !== this.token) return; // a newer request is on its way (or the form now has a mistake)
        this.chain.show(result);
        status("");
      } catch (err) {
        if (token !== this.token) return;
        this.chain.clear("Nothing to show: the lab could not compute this (see the message below).");
        status(`The lab could not compute this: ${friendly(err)}`);
      }
    }, 30);
  }

  /** Switch the input to the chosen source: a worked example (with its kernel and settings) or the digit. */
  useSource() {
    const source = $("source").value;
    $("pad-box").hidden = source !== "digit";
    const example = this.presets.examples[source];
    if (example) {
      this.image = example.input;
      this.editor.set(example.kernel);
      applyExample(example);
    } else {
      this.image = [this.digit || this.sample];
      $("example-note").textContent = `Using ${this.digitText}.`;
      if (this.editor.select.value === "custom") this.editor.usePreset("edge detect");
    }
    showApplicable();
    this.run();
  }

  /** What the live panel sends: the digit as pixels to 1×28×28 models, else the pad's picture as an image. */
  liveInput(info) {
    const digitModel = info.input.shape.join("×") === "1×28×28";
    if (digitModel) return { body: { pixels: this.digit || this.sample }, text: `Input: ${this.digitText}.` };
    const image = $("lab-pad").toDataURL("image/png");
    const shape = info.input.shape.join("×");
    return { body: { image }, text: `Input: the lab's drawing pad${this.drawn ? "" : " (blank: draw on it)"}, `
      + `prepared by the model's own preprocessing to ${shape}.` };
  }

  /** The lab's own pad: a finished drawing is preprocessed by the server to 28×28 and becomes the input. */
  wirePad() {
    const pad = new DrawPad($("lab-pad"), {
      onChange: async (final) => {
        if (!final || pad.isEmpty()) return;
        try {
          const digit = await prepareDigit(pad.toBlob());
          Object.assign(this, { digit, digitText: "the digit drawn in step 1", drawn: true });
          if ($("source").value === "digit") this.useSource();
          this.live.inputChanged();
        } catch (err) {
          status(err.message);
        }
      },
    });
    pad.setBrush(12);
    $("lab-clear").addEventListener("click", () => pad.clear());
  }
}

function wireSoftmax() {
  const panel = new SoftmaxPanel({ scoresEl: $("scores"), labelEl: $("label"), outEl: $("softmax-out"),
    lossChart: $("loss-chart"), gradChart: $("grad-chart"), compute: softmax });
  return panel.update();
}

async function main() {
  showBusyNotes(); // says so while a busy server's answer is being retried (lab_api.js)
  const [presets, network, sample] = await Promise.all([getPresets(), networkKernels(), sampleDigit()]);
  const lab = new Lab(presets, network, sample);
  lab.wirePad();
  $("source").addEventListener("change", () => lab.useSource());
  onSettingsChange(() => lab.run());
  $("source").value = lab.digit ? "digit" : "smiley";
  lab.editor.usePreset("edge detect");
  lab.useSource();
  const params = new URLSearchParams(window.location.search);
  await Promise.all([wireSoftmax(), lab.live.init({ model: params.get("model"), layer: params.get("layer"),
    channel: params.get("channel") })]);
  if (params.get("layer")) $("lab-live").scrollIntoView();
  document.body.dataset.ready = "true";
}

main().catch((err) => { document.getElementById("lab-status").textContent = `The lab could not start: ${err.message}`; });
