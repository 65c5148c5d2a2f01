// Knock-outs: a channel (or one unit) switched off — zeroed or set to its mean — and the prediction before → after,
// every later layer's change (changed units, largest |Δ|) and the difference of one later layer as signed tiles.
import { legend } from "../shared/colors.js";
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { fixed, percent } from "../shared/format.js";
import { postInput } from "./explain_api.js";
import { defaultDifferenceLayer, knockoutRows } from "./logic.js";
import { paintTiles } from "./overlay.js";

function predictionHtml(summary, testid) {
  const p = summary.prediction;
  if (!p) return "—";
  return `<strong data-testid="${esc(testid)}" data-index="${esc(p.index)}" data-probability="${esc(p.probability)}">`
    + `${esc(p.label)}</strong> (${esc(percent(p.probability, 2))})`;
}

function rowsHtml(rows, shown) {
  return rows.map((r) => `<tr${r.name === shown ? ' class="shown"' : ""}><th scope="row">${esc(r.name)}</th>`
    + `<td>${esc(r.changed)} / ${esc(r.total)}</td><td>${esc(fixed(r.maxAbs, 3))}</td></tr>`).join("");
}

/** Fill the difference-layer picker with the layers after the knocked-out one; the default: the deepest map. */
export function laterLayers(layers, name) {
  const at = layers.findIndex((l) => l.name === name);
  const later = layers.slice(at);
  const select = $("ko-diff");
  select.innerHTML = later.map((l) => `<option value="${esc(l.name)}">${esc(l.name)} (${esc(l.shape.join("×"))})</option>`)
    .join("");
  select.value = defaultDifferenceLayer(later);
}

function request(layers) {
  const layer = $("ko-layer").value;
  const channel = Number($("ko-channel").value);
  const shape = layers.find((l) => l.name === layer).shape;
  const unit = $("ko-unit").checked && shape.length === 3;
  let target = { channel };
  if (unit) target = { index: [channel, Number($("ko-y").value), Number($("ko-x").value)] };
  else if (shape.length !== 3) target = { index: [channel] }; // a vector layer's units are its channels
  return { layer, ...target, mode: $("ko-mode").value, layers: [$("ko-diff").value] };
}

/** Switch off the chosen channel or unit and show how the prediction and the later layers changed. */
export async function knockOut(layers) {
  const out = $("ko-result");
  out.textContent = "Computing…";
  try {
    const body = request(layers);
    const answer = (await postInput("/knockout", body)).body;
    const what = body.index ? `unit [${body.index.join(", ")}]` : `channel ${body.channel}`;
    out.innerHTML = `Before: ${predictionHtml(answer.before, "knockout-before")} → after switching off ${esc(body.layer)} `
      + `${esc(what)} (${esc(answer.cells)} value${answer.cells === 1 ? "" : "s"} set to ${esc(fixed(answer.fill, 3))}): `
      + `${predictionHtml(answer.after, "knockout-after")}`;
    const rows = knockoutRows(answer.layers);
    $("ko-layers").innerHTML = rowsHtml(rows, body.layers[0]);
    $("ko-table").hidden = false;
    const shown = answer.layers.find((l) => l.name === body.layers[0]);
    if (shown && shown.difference) {
      const r = shown.max_abs_difference;
      paintTiles($("ko-map"), shown.difference, shown.shape, r);
      $("ko-map").dataset.layer = shown.name;
      $("ko-legend").replaceChildren(legend("signed", r));
      $("ko-map-title").textContent = `${shown.name}: after − before${shown.shape.length === 3 ? ", one tile per channel" : ""}`;
      $("ko-diff-block").hidden = false;
    }
  } catch (err) {
    out.textContent = `Could not knock out: ${err.message}`;
  }
}
