// The explain page's input: the model picker (kept in the address as ?model=), the model's gallery and uploads
// (the graph page's upload code); each new input is predicted once and its model-space pixels kept for display.
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { percent } from "../shared/format.js";
import { setupUpload } from "../visualiser/input_panel.js";
import { currentModel, getV2, input, postV2 } from "./explain_api.js";
import { displayPixels } from "./logic.js";
import { paintPixels } from "./overlay.js";

function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error("The file could not be read."));
    reader.readAsDataURL(blob);
  });
}

/** The model picker: every model API v2 serves; choosing one reloads the page around it (?model= in the address).
 * Returns the chosen model and the whole list. */
export async function wireModels() {
  const { models, default: fallback } = await getV2("/models");
  const current = currentModel() || fallback;
  if (!currentModel()) {
    const url = new URL(window.location.href);
    url.searchParams.set("model", current);
    window.history.replaceState(null, "", url);
  }
  const select = $("model");
  select.innerHTML = models.map((m) => `<option value="${esc(m.name)}"${m.name === current ? " selected" : ""}>${
    esc(m.name)} (${esc(m.input.shape.join("×"))})</option>`).join("");
  select.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.search = "";
    url.searchParams.set("model", select.value);
    window.location.assign(url);
  });
  return { model: models.find((m) => m.name === current), models };
}

/** Show the model's answer for the current input: its top class and the top five. */
function showPrediction(body) {
  const p = body.prediction;
  const el = $("prediction");
  el.textContent = p ? p.label : "—";
  el.dataset.index = p ? String(p.index) : "";
  $("top").innerHTML = (body.top || []).map((t) => `<li>${esc(t.label)} <small>${esc(percent(t.probability))}</small></li>`)
    .join("");
}

/** Take a new input (a gallery image or an upload): predict it, show what the model receives; onReady(state). */
export async function takeInput(blob, state, onReady) {
  const serial = ++state.inputSerial;
  input.image = await dataUrl(blob);
  input.id = null;
  const body = (await postV2("/predict?layers=input&steps=false", { image: input.image })).body;
  if (serial !== state.inputSerial) return;
  input.id = body.input_id;
  $("input-view").dataset.inputId = body.input_id; // which capture the page shows (tests ask the API about it)
  const layer = body.layers.find((l) => l.name === "input");
  state.pixels = displayPixels(layer.values, layer.shape, body.input.mean, body.input.std);
  state.prediction = body.prediction;
  paintPixels($("input-view"), state.pixels);
  showPrediction(body);
  await onReady(state);
}

/** The gallery as a picker (with each image's label) and the upload; both feed takeInput. */
export async function wireInputs(state, onReady) {
  const fail = (err) => { $("input-error").textContent = `That input could not be used: ${err.message || err}`; };
  const gallery = await getV2("/gallery").catch(() => ({ images: [] }));
  state.gallery = gallery.images || [];
  const select = $("sample");
  select.innerHTML = state.gallery.map((g, i) => `<option value="${i}">${esc(g.label ?? "?")} · ${esc(g.name)}</option>`)
    .join("");
  select.closest("label").hidden = !state.gallery.length;
  const pick = async () => {
    $("input-error").textContent = "";
    const item = state.gallery[Number(select.value)];
    const blob = await (await fetch(item.png)).blob();
    await takeInput(blob, state, onReady).catch(fail);
  };
  select.addEventListener("change", pick);
  setupUpload($("upload"), $("drop"), (file) => {
    $("input-error").textContent = "";
    takeInput(file, state, onReady).catch(fail);
  }, (message) => { $("input-error").textContent = message; });
  return pick;
}
