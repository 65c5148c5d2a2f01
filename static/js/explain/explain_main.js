// The explain page: pick a test digit, attribute its prediction, open a unit card, knock a channel out.
import { getSamples } from "../shared/api.js";
import { $ } from "../shared/dom.js";
import { openCard } from "./card.js";
import { getV2, postV2 } from "./explain_api.js";
import { knockOut } from "./knockout.js";
import { paintOverlay } from "./overlay.js";

const state = { samples: [], pixels: null, layers: [], serial: 0 };

function options(select, items) {
  select.replaceChildren(...items.map(([value, text]) => new Option(text, value)));
}

async function attribute() {
  const serial = ++state.serial;
  const note = $("attr-note");
  note.textContent = "…";
  try {
    const body = { pixels: state.pixels, method: $("method").value, target: { class_index: Number($("target").value) } };
    const answer = (await postV2("/attribute", body)).body;
    if (serial !== state.serial) return; // a later request superseded this one
    $("attr-legend").replaceChildren(paintOverlay($("overlay"), state.pixels, answer.combined));
    $("overlay").dataset.method = answer.method;
    const extra = answer.completeness ? ` Completeness error ${(answer.completeness.error * 100).toFixed(1)} %.` : "";
    const why = answer.layer_reason ? ` Layer ${answer.layer}: ${answer.layer_reason}` : "";
    note.textContent = `${answer.method} of ${answer.target.quantity} ${answer.target.label ?? ""} `
      + `(${answer.target.value.toFixed(3)}).${extra}${why}`;
  } catch (err) {
    if (serial === state.serial) note.textContent = `Could not attribute: ${err.message}`;
  }
}

async function chooseSample() {
  const sample = state.samples[Number($("sample").value)];
  state.pixels = sample.pixels;
  const predicted = (await postV2("/predict?layers=&steps=false", { pixels: state.pixels })).body;
  $("prediction").textContent = predicted.prediction ? predicted.prediction.label : "—";
  $("target").value = predicted.prediction ? String(predicted.prediction.index) : "0";
  await attribute();
}

async function start() {
  const [gallery, model] = await Promise.all([getSamples(), getV2("/model")]);
  state.samples = gallery.samples;
  options($("sample"), state.samples.map((s, i) => [String(i), `#${s.id} (label ${s.label})`]));
  options($("target"), (model.labels || []).map((label, i) => [String(i), label]));
  state.layers = model.layers.filter((layer) => layer.shape.length === 3 && layer.name !== "input");
  const names = state.layers.map((layer) => [layer.name, layer.name]);
  options($("unit-layer"), names);
  options($("ko-layer"), names);
  $("sample").addEventListener("change", chooseSample);
  $("method").addEventListener("change", attribute);
  $("target").addEventListener("change", attribute);
  $("open-card").addEventListener("click", () => {
    const layer = state.layers.find((l) => l.name === $("unit-layer").value);
    openCard(state.pixels, layer, Number($("unit-channel").value));
  });
  $("knock").addEventListener("click", () => knockOut(state.pixels, $("ko-layer").value, Number($("ko-channel").value)));
  await chooseSample();
  document.body.dataset.ready = "true";
}

start().catch((err) => { $("attr-note").textContent = `The page could not start: ${err.message}`; });
