// The traced unit in words and numbers: where it is, its exact value (float32, from /trace), what it is computed
// from, the scalar steps of its arithmetic and, for linear units, its largest contributions.
import { esc } from "../shared/escape.js";
import { fixed, percent } from "../shared/format.js";

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

/** The computation's scalar entries (sum, bias, before, after, …) as label/value pairs. */
export function scalars(computation) {
  return Object.entries(computation).filter(([, v]) => isNumber(v));
}

/** HTML for a trace answer (every server string escaped). */
export function unitHtml(t) {
  const c = t.computation || {};
  const rows = scalars(c).map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(fixed(v, 4))}</td></tr>`);
  const top = Array.isArray(c.top) ? c.top.slice(0, 5) : [];
  const contributions = top.length && typeof top[0] === "object"
    ? `<p class="muted">Largest contributions:</p><ol class="gp-contrib">${top.map((e) => `<li>${esc(
      Object.entries(e).map(([k, v]) => `${k} ${isNumber(v) ? fixed(v, 3) : JSON.stringify(v)}`).join(", "))}</li>`).join("")}</ol>`
    : "";
  const reached = t.fields.filter((f) => f.box).length;
  return `<h3 data-role="unit">${esc(t.layer)} [${esc(t.index.join(", "))}] = ${esc(fixed(t.value, 4))}</h3>
    <p class="muted">${esc(t.op)} of ${esc(t.inputs.join(" and ") || "the input")}; its field is marked on
      ${reached} earlier layers and on the input.</p>
    ${rows.length ? `<table class="gp-arith" data-role="sum">${rows.join("")}</table>` : ""}${contributions}`;
}

/** The answer panel: top classes with probabilities (frame null: empty, e.g. after an error). */
export function showPrediction(els, frame) {
  if (!frame || !frame.prediction) {
    els.label.textContent = frame ? "no class output" : "";
    els.confidence.textContent = "";
    els.top.replaceChildren();
    return;
  }
  els.label.textContent = frame.prediction.label;
  els.confidence.textContent = `${percent(frame.prediction.probability)} sure`;
  els.top.innerHTML = frame.top.map((r) => `<li><span>${esc(r.label)}</span><i style="width:${(r.probability * 100)
    .toFixed(1)}%"></i><small>${esc(percent(r.probability))}</small></li>`).join("");
}
