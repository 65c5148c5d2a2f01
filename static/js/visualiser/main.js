// Wires the page: drawing → live predictions (one request in flight, latest wins) → layers, prediction, tracing.
import { getModel, getModels, getSamples, predict, trace } from "../shared/api.js";
import { renderDetail } from "./detail.js";
import { DrawPad } from "../shared/draw.js";
import { loadImage, renderGallery, renderSteps, setupUpload, showSeen } from "./input_panel.js";
import { renderKernels } from "./kernels.js";
import { NetworkView } from "./network.js";
import { PredictionView } from "./prediction.js";
import { Tracer } from "./trace.js";

const $ = (id) => document.getElementById(id);

function flatIndex(shape, unit) {
  return unit.length === 3 ? (unit[0] * shape[1] + unit[1]) * shape[2] + unit[2] : unit[0];
}

/** MNIST pixels (light on dark) as a dark-on-light image for the pad, so the user can draw over it. */
function padImageFromPixels(pixels) {
  const c = document.createElement("canvas");
  c.width = 28;
  c.height = 28;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(28, 28);
  pixels.flat().forEach((v, i) => {
    const g = Math.round(255 * (1 - v));
    img.data.set([g, g, g, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
  return c;
}

async function main() {
  const status = (msg) => { $("status").textContent = msg || ""; };
  const model = await getModel();
  const view = new NetworkView($("network"), model);
  const prediction = new PredictionView({ digit: $("prediction"), confidence: $("confidence"), bars: $("bars") });
  const layers = model.layers;
  let lastResult = null;
  let label = null;
  let lastTrace = null;

  const showDetail = (t) => {
    lastTrace = t;
    if (!t) return renderDetail($("detail"), null);
    const i = layers.findIndex((l) => l.name === t.layer);
    const nextLayer = layers[i + 1];
    const next = nextLayer && ["relu", "tanh"].includes(nextLayer.kind) && ["conv", "linear"].includes(t.kind)
      ? { kind: nextLayer.name, value: view.value(nextLayer.name, flatIndex(nextLayer.shape, t.index)) }
      : null;
    renderDetail($("detail"), t, { next, label, onLabel: (l) => { label = l; showDetail(lastTrace); } });
  };

  const tracer = new Tracer({
    view,
    panel: document.querySelector(".network-panel"),
    rays: $("rays"),
    onTrace: async (name, unit) => {
      if (!name || !lastResult) {
        showDetail(null);
        return null;
      }
      try {
        const t = await trace({ pixels: lastResult.input }, name, unit);
        showDetail(t);
        return t;
      } catch (err) {
        status(err.message);
        return null;
      }
    },
  });

  const clearOutputs = () => {
    lastResult = null;
    prediction.clear();
    view.clear();
    tracer.clear();
    $("seen").getContext("2d").clearRect(0, 0, 28, 28);
    renderSteps($("steps"), []);
    document.body.classList.add("empty");
  };

  // Live loop: at most one request in flight; while it runs, newer drawings only mark the state dirty.
  let source = null; // async () => {blob} | {pixels} | null
  let inFlight = false;
  let dirty = false;
  let wantSteps = false;
  const run = async () => {
    if (inFlight) {
      dirty = true;
      return;
    }
    inFlight = true;
    dirty = false;
    try {
      performance.mark("cs:start");
      const input = source ? await source() : null;
      if (!input) {
        clearOutputs();
        return;
      }
      const steps = wantSteps || $("steps-box").open;
      performance.mark("cs:encoded");
      const result = await predict(input, { steps });
      performance.mark("cs:response");
      lastResult = result;
      sessionStorage.setItem("convscope:input", JSON.stringify(result.input)); // the lab starts from it
      document.body.classList.remove("empty");
      view.update(result);
      prediction.show(result.prediction, result.probabilities);
      showSeen($("seen"), result.input);
      if (steps) renderSteps($("steps"), result.steps);
      status("");
      performance.mark("cs:painted");
      document.dispatchEvent(new CustomEvent("convscope:painted")); // for the browser benchmark and tests
      tracer.refresh();
    } catch (err) {
      if (err.code === "empty_image") clearOutputs();
      else status(`Could not run the network: ${err.message}`);
    } finally {
      inFlight = false;
      if (dirty) run();
    }
  };

  const pad = new DrawPad($("pad"), {
    onChange: (final) => {
      $("pad-hint").hidden = !pad.isEmpty();
      wantSteps = final;
      source = async () => (pad.isEmpty() ? null : { blob: pad.toBlob() });
      run();
    },
  });
  $("brush").addEventListener("input", (e) => pad.setBrush(Number(e.target.value)));
  $("eraser").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    e.currentTarget.setAttribute("aria-pressed", String(on));
    pad.setEraser(on);
  });
  $("undo").addEventListener("click", () => pad.undo());
  $("clear").addEventListener("click", () => pad.clear());
  $("steps-box").addEventListener("toggle", () => { if ($("steps-box").open && source) run(); });

  setupUpload($("upload"), $("drop"), (file, image) => {
    if (image) pad.setBackground(image);
    $("pad-hint").hidden = true;
    wantSteps = true;
    source = async () => ({ blob: file });
    run();
  }, status);

  getSamples().then((body) => renderGallery($("gallery"), body.samples, async (s) => {
    pad.setBackground(await loadImage(padImageFromPixels(s.pixels).toDataURL()));
    $("pad-hint").hidden = true;
    label = s.label;
    wantSteps = true;
    source = async () => ({ pixels: s.pixels });
    run();
  })).catch((err) => status(`Samples unavailable: ${err.message}`));

  $("range-mode").addEventListener("change", (e) => view.setRangeMode(e.target.value));
  getModels().then(({ models }) => {
    const select = $("model-select");
    select.innerHTML = models.map((m) => `<option value="${m.name}" ${m.name === model.name ? "selected" : ""}>
      ${m.name} (${m.architecture}, ${(m.test_accuracy * 100).toFixed(2)} %)</option>`).join("");
    select.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set("model", select.value);
      window.location.assign(url); // a different network: rebuild the page around its layers
    });
  });
  for (const layer of layers) {
    const id = `toggle-${layer.name}`;
    const label_ = document.createElement("label");
    label_.innerHTML = `<input type="checkbox" id="${id}" checked> ${layer.name}`;
    label_.querySelector("input").addEventListener("change", (e) => view.setVisible(layer.name, e.target.checked));
    $("layer-toggles").append(label_);
  }
  $("network").addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-kernels-for]");
    if (!btn) return;
    const entry = view.entry(btn.dataset.kernelsFor);
    if (!entry.kernelsEl.childElementCount) renderKernels(entry.kernelsEl, entry.layer);
    entry.kernelsEl.hidden = !entry.kernelsEl.hidden;
    btn.setAttribute("aria-expanded", String(!entry.kernelsEl.hidden));
    btn.textContent = entry.kernelsEl.hidden ? "Show kernels" : "Hide kernels";
  });
  clearOutputs();
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  document.getElementById("status").textContent = `The page could not start: ${err.message}`;
});
