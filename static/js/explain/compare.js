// Two models on the same input, side by side: both answers, every layer they share (same name and shape) with its
// largest and mean |difference| and cosine, and one shared layer's values in both models with their difference.
import { legend, maxAbs } from "../shared/colors.js";
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { fixed, percent } from "../shared/format.js";
import { input, postInput } from "./explain_api.js";
import { paintTiles } from "./overlay.js";
import { comparable, differences } from "./logic.js";

const held = { key: null, answer: null }; // the answer with values, for the input and model it was asked for

function side(summary, testid) {
  const p = summary.prediction;
  const said = p ? `<strong data-testid="${esc(testid)}" data-index="${esc(p.index)}">${esc(p.label)}</strong> (${
    esc(percent(p.probability, 2))})` : "—";
  return `${esc(summary.model)} says ${said}`;
}

function rowsHtml(layers) {
  return layers.map((l) => `<tr><th scope="row"><button type="button" class="link" data-layer="${esc(l.name)}">${
    esc(l.name)}</button> <small>${esc(l.shape.join("×"))}</small></th><td>${esc(fixed(l.max_abs_difference, 3))}</td>`
    + `<td>${esc(fixed(l.mean_abs_difference, 3))}</td><td>${l.cosine === null ? "—" : esc(fixed(l.cosine, 4))}</td></tr>`)
    .join("");
}

/** Paint one shared layer in both models (one signed scale for the two) and their difference b − a. */
function showLayer(layer) {
  const a = Float32Array.from(layer.a);
  const b = Float32Array.from(layer.b);
  const d = differences(a, b);
  const r = Math.max(maxAbs(a), maxAbs(b)) || 1;
  const rd = maxAbs(d) || 1;
  paintTiles($("cmp-a"), a, layer.shape, r);
  paintTiles($("cmp-b"), b, layer.shape, r);
  paintTiles($("cmp-d"), d, layer.shape, rd);
  $("cmp-maps").dataset.layer = layer.name;
  $("cmp-legend").replaceChildren(legend("signed", r));
  $("cmp-legend-d").replaceChildren(legend("signed", rd));
  $("cmp-map-title").textContent = `${layer.name} (${layer.shape.join("×")})`;
  $("cmp-maps").hidden = false;
}

async function withValues(other) {
  const key = `${input.id || input.image}|${other}`;
  if (held.key !== key) {
    held.answer = (await postInput(`/compare?other=${encodeURIComponent(other)}`, { values: true })).body;
    held.key = key;
  }
  return held.answer;
}

async function pickLayer(name) {
  const answer = await withValues($("cmp-other").value);
  const layer = answer.layers.find((l) => l.name === name);
  if (layer) showLayer(layer);
}

/** Run the comparison for the current input and show the deepest shared map (or vector). */
export async function compareModels() {
  const out = $("cmp-result");
  out.textContent = "Comparing…";
  try {
    const answer = await withValues($("cmp-other").value);
    out.innerHTML = `${side(answer.a, "compare-a")} · ${side(answer.b, "compare-b")}`;
    $("cmp-layers").innerHTML = rowsHtml(answer.layers);
    $("cmp-table").hidden = answer.layers.length === 0;
    const only = [["only here", answer.only_a], [`only in ${answer.b.model}`, answer.only_b]];
    $("cmp-only").textContent = only.filter(([, l]) => l.length).map(([t, l]) => `${t}: ${l.join(", ")}`).join(" · ");
    if (answer.layers.length) showLayer(answer.layers[answer.layers.length - 1]);
    else out.innerHTML += " — they share no layer (same name and shape).";
  } catch (err) {
    out.textContent = `Could not compare: ${err.message}`;
  }
}

/** Offer the served models that take this model's input; the section says so when there is none. */
export function wireCompare(current, models) {
  const others = comparable(models, current);
  $("cmp-other").innerHTML = others.map((m) => `<option value="${esc(m.name)}">${esc(m.name)}</option>`).join("");
  $("cmp-run").disabled = others.length === 0;
  if (!others.length) $("cmp-result").textContent = "No other served model takes this input.";
  $("cmp-run").addEventListener("click", compareModels);
  $("cmp-layers").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-layer]");
    if (button) pickLayer(button.dataset.layer).catch((err) => { $("cmp-result").textContent = err.message; });
  });
}
