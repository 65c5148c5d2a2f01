// Wires the visualiser page: drawing → live predictions (one request in flight, latest wins) → layers, prediction,
// tracing. Each function below wires one part of the page.
import { getModel, getModels, getSamples, trace } from "../shared/api.js";
import { CONFIG } from "../shared/config.js";
import { $, loadImage } from "../shared/dom.js";
import { DrawPad } from "../shared/draw.js";
import { esc } from "../shared/escape.js";
import { flatIndex } from "../shared/geometry.js";
import { activationAfter } from "../shared/layers.js";
import { renderDetail } from "./detail.js";
import { padImageFromPixels, renderGallery, renderSteps, setupUpload, showSeen } from "./input_panel.js";
import { renderKernels } from "./kernels.js";
import { LiveLoop } from "./live.js";
import { NetworkView } from "./network.js";
import { PredictionView } from "./prediction.js";
import { Tracer } from "./trace.js";

const status = (msg) => { $("status").textContent = msg || ""; };

/** The detail panel: show(trace) renders it; the true label chosen for the softmax is kept between traces. */
function detailPanel(layers, view) {
  const state = { label: null, last: null };
  const show = (t) => {
    state.last = t;
    if (!t) return renderDetail($("detail"), null);
    const i = layers.findIndex((l) => l.name === t.layer);
    const after = activationAfter(layers, i);
    const next = after ? { kind: after.name, value: view.value(after.name, flatIndex(after.shape, t.index)) } : null;
    renderDetail($("detail"), t, { next, label: state.label, onLabel: (l) => { state.label = l; show(state.last); } });
  };
  return { show, setLabel: (l) => { state.label = l; } };
}

/** The tracer: it asks the API for the selected unit's trace on the last input and shows it in the detail panel. */
function createTracer(view, detail, lastInput) {
  return new Tracer({
    view,
    panel: document.querySelector(".network-panel"),
    rays: $("rays"),
    onTrace: async (name, unit) => {
      const input = lastInput();
      if (!name || !input) {
        detail.show(null);
        return null;
      }
      try {
        const t = await trace({ pixels: input }, name, unit);
        detail.show(t);
        return t;
      } catch (err) {
        status(err.message);
        return null;
      }
    },
  });
}

/** The drawing pad and its tools; every stroke runs the live loop (steps only once the stroke ends). */
function wirePad(loop) {
  const pad = new DrawPad($("pad"), {
    onChange: (final) => {
      $("pad-hint").hidden = !pad.isEmpty();
      loop.use(async () => (pad.isEmpty() ? null : { blob: pad.toBlob() }), final);
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
  return pad;
}

/** Uploads and the sample gallery: each shows its image on the pad and becomes the loop's input. */
function wireInputs(loop, pad, detail) {
  setupUpload($("upload"), $("drop"), (file, image) => {
    if (image) pad.setBackground(image);
    $("pad-hint").hidden = true;
    loop.use(async () => ({ blob: file }), true);
  }, status);
  getSamples().then((body) => renderGallery($("gallery"), body.samples, async (s) => {
    pad.setBackground(await loadImage(padImageFromPixels(s.pixels).toDataURL()));
    $("pad-hint").hidden = true;
    detail.setLabel(s.label);
    loop.use(async () => ({ pixels: s.pixels }), true);
  })).catch((err) => status(`Samples unavailable: ${err.message}`));
}

/** The model picker: choosing another network reloads the page around its layers. */
function wireModelSelect(model) {
  getModels().then(({ models }) => {
    const select = $("model-select");
    select.innerHTML = models.map((m) => `<option value="${esc(m.name)}" ${m.name === model.name ? "selected" : ""}>
      ${esc(m.name)} (${esc(m.architecture)}, ${(m.test_accuracy * 100).toFixed(2)} %)</option>`).join("");
    select.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set("model", select.value);
      window.location.assign(url);
    });
  });
}

/** View options: colour range mode, one checkbox per layer, and the "Show kernels" buttons of conv layers. */
function wireViewOptions(layers, view) {
  $("range-mode").addEventListener("change", (e) => view.setRangeMode(e.target.value));
  for (const layer of layers) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" id="toggle-${esc(layer.name)}" checked> ${esc(layer.name)}`;
    label.querySelector("input").addEventListener("change", (e) => view.setVisible(layer.name, e.target.checked));
    $("layer-toggles").append(label);
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
}

async function main() {
  const model = await getModel();
  const view = new NetworkView($("network"), model);
  const prediction = new PredictionView({ digit: $("prediction"), confidence: $("confidence"), bars: $("bars") });
  const detail = detailPanel(model.layers, view);
  let lastResult = null;
  const tracer = createTracer(view, detail, () => lastResult && lastResult.input);

  const clearOutputs = () => {
    lastResult = null;
    prediction.clear();
    view.clear();
    tracer.clear();
    const seen = $("seen");
    seen.getContext("2d").clearRect(0, 0, seen.width, seen.height);
    renderSteps($("steps"), []);
    document.body.classList.add("empty");
  };
  const paint = (result, steps) => {
    lastResult = result;
    sessionStorage.setItem(CONFIG.savedInputKey, JSON.stringify(result.input)); // the lab starts from it
    document.body.classList.remove("empty");
    view.update(result);
    prediction.show(result.prediction, result.probabilities);
    showSeen($("seen"), result.input);
    if (steps) renderSteps($("steps"), result.steps);
    status("");
    performance.mark("cs:painted");
    document.dispatchEvent(new CustomEvent("convscope:painted")); // for the browser benchmark and tests
    tracer.refresh();
  };
  const loop = new LiveLoop({
    onResult: paint,
    onEmpty: clearOutputs,
    onError: (err) => (err.code === "empty_image" ? clearOutputs() : status(`Could not run the network: ${err.message}`)),
    alsoSteps: () => $("steps-box").open,
  });

  const pad = wirePad(loop);
  $("steps-box").addEventListener("toggle", () => { if ($("steps-box").open && loop.hasSource) loop.run(); });
  wireInputs(loop, pad, detail);
  wireModelSelect(model);
  wireViewOptions(model.layers, view);
  clearOutputs();
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  document.getElementById("status").textContent = `The page could not start: ${err.message}`;
});
