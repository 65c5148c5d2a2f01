// The explain page for any served model: pick the model and an input (its gallery or an upload), attribute the
// prediction by any method, open a unit's card, knock a channel out. ?model=, ?layer= and ?unit= preselect.
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { attribute, cancelAttribution, syncOptions } from "./attribution.js";
import { openCard } from "./card.js";
import { wireCompare } from "./compare.js";
import { wireDrawing } from "./draw_input.js";
import { getV2 } from "./explain_api.js";
import { takeInput, wireInputs, wireModels } from "./input.js";
import { knockOut, laterLayers } from "./knockout.js";

const state = { inputSerial: 0, pixels: null, prediction: null, gallery: [], layers: [], model: null };

function fill(select, layers) {
  select.innerHTML = layers.map((l) => `<option value="${esc(l.name)}">${esc(l.name)} (${esc(l.shape.join("×"))})</option>`)
    .join("");
}

/** Channel / y / x limits and visibility for a unit picker (prefix "unit" or "ko") after its layer changed. */
function syncUnitFields(prefix) {
  const layer = state.layers.find((l) => l.name === $(`${prefix}-layer`).value);
  const spatial = layer.shape.length === 3;
  $(`${prefix}-channel`).max = String(layer.shape[0] - 1);
  $(`${prefix}-channel`).value = String(Math.min(Number($(`${prefix}-channel`).value), layer.shape[0] - 1));
  for (const [axis, size] of [["y", layer.shape[1]], ["x", layer.shape[2]]]) {
    const el = $(`${prefix}-${axis}`);
    el.closest("label").hidden = !spatial;
    if (!spatial) continue;
    el.max = String(size - 1);
    if (Number(el.value) > size - 1 || el.dataset.touched !== "true") el.value = String(Math.floor(size / 2));
  }
}

function unitIndex() {
  const layer = state.layers.find((l) => l.name === $("unit-layer").value);
  const c = Number($("unit-channel").value);
  return layer.shape.length === 3 ? [c, Number($("unit-y").value), Number($("unit-x").value)] : [c];
}

function setupModel(model, description) {
  state.model = model;
  state.layers = description.layers.filter((l) => l.name !== "input");
  const maps = state.layers.filter((l) => l.shape.length === 3 && l.shape[1] * l.shape[2] > 1);
  $("target").innerHTML = (description.labels || []).map((label, i) => `<option value="${i}">${esc(label)}</option>`).join("");
  $("target-kind").value = description.labels && description.labels.length ? "class" : "unit";
  fill($("target-layer"), state.layers);
  fill($("unit-layer"), state.layers);
  fill($("ko-layer"), state.layers.filter((l) => l.role !== "probabilities"));
  $("cam-layer").innerHTML = `<option value="">default (the last convolution)</option>${maps.map((l) =>
    `<option value="${esc(l.name)}">${esc(l.name)} (${esc(l.shape.join("×"))})</option>`).join("")}`;
  const params = new URLSearchParams(window.location.search);
  const chosen = state.layers.find((l) => l.name === params.get("layer")) || maps[maps.length - 1] || state.layers[0];
  $("unit-layer").value = chosen.name;
  // Knock out a middle map by default, so the deeper maps below it show where the change spreads.
  const knocked = params.get("layer") ? chosen : maps[Math.floor(maps.length / 2)] || chosen;
  if ($("ko-layer").querySelector(`option[value="${CSS.escape(knocked.name)}"]`)) $("ko-layer").value = knocked.name;
  const unit = (params.get("unit") || "").split(",").filter(Boolean).map(Number);
  if (unit.length) $("unit-channel").value = String(unit[0]);
  syncUnitFields("unit");
  syncUnitFields("ko");
  if (unit.length === 3) { $("unit-y").value = String(unit[1]); $("unit-x").value = String(unit[2]); }
  laterLayers(state.layers, $("ko-layer").value);
  return unit.length > 0;
}

function wireControls() {
  const rerun = () => { syncOptions(); if (state.pixels) attribute(state); };
  const inputs = ["ig-steps", "sg-samples", "sg-noise", "occ-window", "occ-stride", "target-index"];
  for (const id of ["method", "target-kind", "target", "quantity", "target-layer", "cam-layer", "ig-baseline", "ig-precise",
    ...inputs]) {
    $(id).addEventListener("change", rerun);
  }
  $("attr-run").addEventListener("click", rerun);
  $("attr-cancel").addEventListener("click", cancelAttribution);
  $("unit-layer").addEventListener("change", () => syncUnitFields("unit"));
  $("ko-layer").addEventListener("change", () => { syncUnitFields("ko"); laterLayers(state.layers, $("ko-layer").value); });
  for (const id of ["unit-y", "unit-x", "ko-y", "ko-x"]) $(id).addEventListener("input", () => { $(id).dataset.touched = "true"; });
  $("ko-unit").addEventListener("change", () => { $("ko-unit-fields").hidden = !$("ko-unit").checked; });
  const open = () => openCard(state.model, state.layers.find((l) => l.name === $("unit-layer").value), unitIndex(),
    $("unit-per").checked);
  $("open-card").addEventListener("click", open);
  $("knock").addEventListener("click", () => knockOut(state.layers));
  $("ko-diff").addEventListener("change", () => $("ko-table").hidden || knockOut(state.layers));
  return open;
}

async function start() {
  const { model, models } = await wireModels();
  const description = await getV2("/model");
  $("model-note").textContent = `${description.title}: input ${model.input.shape.join("×")}.`;
  const openUnit = setupModel(model, description);
  const open = wireControls();
  wireCompare(model, models);
  syncOptions();
  const onReady = async () => {
    $("target").value = String(state.prediction ? state.prediction.index : 0); // explain what it says
    await attribute(state);
  };
  const pick = await wireInputs(state, onReady);
  const drawingFailed = (err) => { $("input-error").textContent = `That drawing could not be used: ${err.message}`; };
  wireDrawing(model, state, onReady, drawingFailed);
  if (state.gallery.length) await pick();
  else await takeInput(await (await fetch(blankPng(model))).blob(), state, onReady);
  document.body.dataset.ready = "true";
  if (openUnit) open();
}

/** A blank image of the model's input size, for a model without a gallery (the user uploads one). */
function blankPng(model) {
  const canvas = document.createElement("canvas");
  [canvas.height, canvas.width] = model.input.shape.slice(-2);
  return canvas.toDataURL("image/png");
}

start().catch((err) => { $("attr-note").textContent = `The page could not start: ${err.message}`; });
