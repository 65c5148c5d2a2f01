// Captions and summaries of a /api/v2/lab/convolve answer: output sizes with their formulas (floor and ceil for
// pooling), the flattened vector with its index mapping, and dropout in training vs evaluation. Pure functions.
import { esc } from "../shared/escape.js";
import { compact as fmt } from "../shared/format.js";

const FLAT_SHOWN = 200; // the flattened list prints its first 200 numbers

/** The convolution's output size: both formulas and the feature map's size. */
export function outputSizeHtml({ rows, cols }) {
  return `rows: ${esc(rows.formula)}<br>columns: ${esc(cols.formula)}<br>
      feature map: <b data-role="size">${esc(rows.value)}×${esc(cols.value)}</b>`;
}

/** The pooled size in floor and ceil mode, the mode in use first and in bold. */
export function poolSizeHtml(pooled) {
  const { rows, cols } = pooled.output_size;
  const line = (mode) => `<span class="${mode === pooled.mode ? "chosen" : "muted"}">${mode} mode —
      rows ${esc(rows[mode].formula)}; columns ${esc(cols[mode].formula)}${mode === pooled.mode
  ? ` → <b data-role="pool-size">${esc(rows[mode].value)}×${esc(cols[mode].value)}</b>` : ""}</span>`;
  const other = pooled.mode === "floor" ? "ceil" : "floor";
  return `${line(pooled.mode)}<br>${line(other)}`;
}

/** The pooled map's caption: type, window, stride, padding, mode and shape. */
export function poolCaption(p) {
  const pad = p.padding ? `, padding ${p.padding}` : "";
  return `${p.type} pooling ${p.size}×${p.size}, stride ${p.stride}${pad}, ${p.mode} mode: ${p.shape.join("×")}`;
}

/** The caption of the map after the activation (no activation: it is the feature map itself). */
export function activationCaption(name) {
  return name === "no activation" ? "no activation: the same as the feature map" : `after ${name}`;
}

/** The flattened vector: where it comes from, its index mapping, and its first numbers (each with its cell). */
export function flatHtml({ values, source, shape, order }) {
  const w = shape[2];
  const more = values.length > FLAT_SHOWN ? `<p class="muted">… ${values.length - FLAT_SHOWN} more</p>` : "";
  const items = values.slice(0, FLAT_SHOWN).map((v, i) => {
    const cell = `[${Math.floor(i / w)}, ${i % w}]`;
    return `<li title="index ${i} ← ${source} ${cell}" data-index="${i}"><small>${i}</small> ${esc(fmt(v))}</li>`;
  }).join("");
  const example = values.length > 1 ? ` For example index ${values.length - 1} ← cell
      [${Math.floor((values.length - 1) / w)}, ${(values.length - 1) % w}].` : "";
  return `<p class="muted">${values.length} numbers from the ${esc(source)} ${esc(shape[1])}×${esc(w)} map,
      ${esc(order)}.${example}</p><ol class="flat-list" start="0">${items}</ol>${more}`;
}

/** Dropout on the flattened vector: one training step (dropped values struck out, kept ones scaled) vs evaluation. */
export function dropoutHtml({ p, scale, kept, train, eval: evaluation }) {
  const n = kept.length;
  const k = kept.reduce((a, b) => a + b, 0);
  const cells = train.slice(0, FLAT_SHOWN).map((v, i) => (kept[i]
    ? `<li>${esc(fmt(v))}</li>` : `<li class="dropped" title="dropped">${esc(fmt(evaluation[i]))}</li>`)).join("");
  const rule = p > 0 ? `each value is dropped with probability p = ${esc(p)}; the ${k} kept of ${n} are multiplied by
      1 / (1 − p) = ${esc(fmt(scale))} so the expected total stays the same` : "p = 0: nothing is dropped";
  return `<p class="muted">Training (one random step): ${rule}. Evaluation: all ${n} values pass unchanged.</p>
      <ol class="flat-list" data-role="dropout" data-kept="${k}">${cells}</ol>`;
}
