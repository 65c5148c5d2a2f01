// Wires the visualiser page: drawing → live predictions (one request in flight, latest wins) → the answer, the
// layers and the overview; selecting a unit → its field on the input, its arithmetic (a bottom sheet on phones).
import { getModel, trace } from "../shared/api.js";
import { showBusyNotes } from "../shared/busy.js";
import { CONFIG } from "../shared/config.js";
import { $ } from "../shared/dom.js";
import { friendly } from "../shared/errors.js";
import { ACTIVATIONS, activationAfter } from "../shared/layers.js";
import { renderDetail } from "./detail.js";
import { renderSteps, showSeen } from "./input_panel.js";
import { KeyNav } from "./keys.js";
import { LiveLoop } from "./live.js";
import { NetworkView } from "./network.js";
import { Overview } from "./overview.js";
import { PredictionView } from "./prediction.js";
import { Sheet } from "./sheet.js";
import { Tracer } from "./trace.js";
import { wireInputs, wireModelSelect, wirePad, wireViewOptions } from "./wire.js";

/** Errors go next to what caused them: the pad's and samples' under the answer, an upload's under the upload. */
const ERROR_AT = { pad: "status", sample: "status", upload: "upload-error" };
const showError = (origin, message) => {
  for (const id of new Set(Object.values(ERROR_AT))) $(id).textContent = "";
  if (message) $(ERROR_AT[origin] || "status").textContent = message;
};

/** One sentence for screen readers: the unit, its value and the equations of the panel. */
function announce(panel) {
  const head = panel.querySelector("h3");
  const eqs = Array.from(panel.querySelectorAll(".eq")).filter((p) => !p.querySelector("select"));
  $("announce").textContent = head ? [head.textContent, ...eqs.map((p) => p.textContent)].join(". ")
    .replace(/\s+/g, " ") : "";
}

/** The detail panel: show(trace) renders it; the true label chosen for the softmax is kept between traces. */
function detailPanel(layers) {
  const state = { label: null, last: null };
  const show = (t) => {
    state.last = t;
    if (!t) {
      renderDetail($("detail"), null);
      return announce($("detail"));
    }
    const after = activationAfter(layers, layers.findIndex((l) => l.name === t.layer));
    // The activation that follows, from the trace's exact sum (the maps on the page are 8-bit display values).
    const next = after ? { kind: after.name, value: ACTIVATIONS[after.kind].apply(t.computation.sum) } : null;
    renderDetail($("detail"), t, { next, label: state.label, onLabel: (l) => { state.label = l; show(state.last); } });
    announce($("detail"));
  };
  return { show, setLabel: (l) => { state.label = l; } };
}

/** The tracer with the views that follow the selection: the overview strip and, on phones, the sheet. */
function createTracer(view, detail, lastInput) {
  const sheet = new Sheet($("detail-panel"), $("sheet-close"), view, () => tracer.clear());
  const overview = new Overview($("overview"), view, $("network-scroll"));
  const tracer = new Tracer({
    view,
    panel: document.querySelector(".network-content"),
    rays: $("rays"),
    field: { rfInput: document.querySelector(".field-wrap .rf-input"), gradEl: $("field-grad"), cols: 28, rows: 28 },
    tapGate: (canvas) => sheet.tapGate(canvas),
    onSelect: (sel) => {
      overview.field(sel);
      if (!sel) sheet.close();
      else if (sel.how === "click" || sel.how === "key") sheet.open(sel.name, sel.unit);
    },
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
        $("detail").textContent = `This unit could not be explained: ${friendly(err)}`;
        return null;
      }
    },
  });
  new KeyNav(tracer, view);
  return tracer;
}

/** What the page shows for an input, and how it is emptied (blank pad, errors). */
function outputs(view, prediction, tracer) {
  const state = { result: null };
  const clear = () => {
    state.result = null;
    prediction.clear();
    view.clear();
    tracer.clear();
    const seen = $("seen");
    seen.getContext("2d").clearRect(0, 0, seen.width, seen.height);
    renderSteps($("steps"), []);
    document.body.classList.add("empty");
  };
  const paint = (result, steps) => {
    state.result = result;
    sessionStorage.setItem(CONFIG.savedInputKey, JSON.stringify(result.input)); // the lab starts from it
    document.body.classList.remove("empty");
    $("pad-hint").hidden = true;
    view.update(result);
    prediction.show(result.prediction, result.probabilities, result.confidence);
    showSeen($("seen"), result.input);
    if (steps) renderSteps($("steps"), result.steps);
    showError(null, "");
    performance.mark("cs:painted");
    document.dispatchEvent(new CustomEvent("convscope:painted")); // for the browser benchmark and tests
    tracer.refresh();
  };
  return { state, clear, paint };
}

async function main() {
  showBusyNotes();
  const model = await getModel();
  const view = new NetworkView($("network"), model);
  const prediction = new PredictionView({
    digit: $("prediction"),
    confidence: $("confidence"),
    cue: $("cue"),
    bars: $("bars"),
  });
  const detail = detailPanel(model.layers);
  let out = null;
  const tracer = createTracer(view, detail, () => out.state.result && out.state.result.input);
  out = outputs(view, prediction, tracer);
  const loop = new LiveLoop({
    onResult: out.paint,
    onEmpty: () => {
      out.clear();
      showError(null, "");
      $("pad-hint").hidden = false;
    },
    onError: (err, origin) => {
      out.clear(); // nothing stale: the old answer must not look like this input's
      showError(origin, friendly(err));
    },
    alsoSteps: () => $("steps-box").open,
  });
  const pad = wirePad(loop);
  $("steps-box").addEventListener("toggle", () => { if ($("steps-box").open && loop.hasSource) loop.run(); });
  wireInputs(loop, pad, detail);
  wireModelSelect(model);
  wireViewOptions(model.layers, view);
  out.clear();
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  document.getElementById("status").textContent = `The page could not start: ${friendly(err)}`;
});
