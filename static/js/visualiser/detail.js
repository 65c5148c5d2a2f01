// The detail panel: the arithmetic of the selected unit, from /api/v1/trace, with numbers that add up.
// Every value from the server goes through esc() (or fixed(), which prints numbers only) before it reaches HTML.
import { esc } from "../shared/escape.js";
import { fixed as f } from "../shared/format.js";
import { boxText, fromInclusive } from "../shared/box.js";
import { cellBox } from "../shared/geometry.js";
import { ACTIVATIONS } from "../shared/layers.js";

const num = (x, d = 3, role = "") =>
  `<span class="num"${role ? ` data-role="${role}"` : ""} data-value="${esc(x)}">${f(x, d)}</span>`;
const sign = (x) => (x > 0 ? "pos" : x < 0 ? "neg" : "");

function grid(values, { cls = "", winner = null, d = 2 } = {}) {
  const rows = values.map((row, y) => `<tr>${row.map((v, x) => {
    const win = winner && winner[0] === y && winner[1] === x ? " winner" : "";
    return `<td class="${sign(v)}${win}" data-value="${esc(v)}">${f(v, d)}</td>`;
  }).join("")}</tr>`);
  return `<table class="grid ${cls}">${rows.join("")}</table>`;
}

function unitName(t) {
  return `${t.layer}[${t.index.join(", ")}]`;
}

/** "→ relu1 → 0.1234": the activation that follows a conv or linear unit. */
function after(next) {
  return next ? `<p class="eq">→ ${esc(next.kind)} → ${num(next.value, 4, "activation")}</p>` : "";
}

function conv(t, next) {
  const c = t.computation;
  const channels = c.patch.map((patch, k) => `
    <div class="chan">
      <div class="chan-head">input channel ${k} of ${esc(c.source)}</div>
      <div class="triplet">
        <figure>${grid(patch)}<figcaption>input patch</figcaption></figure><span class="op">×</span>
        <figure>${grid(c.kernel[k])}<figcaption>kernel</figcaption></figure><span class="op">=</span>
        <figure>${grid(c.products[k])}<figcaption>products</figcaption></figure>
        <span class="op">Σ</span>${num(c.channel_sums[k], 3, "channel-sum")}
      </div>
    </div>`).join("");
  const window = `window at ${boxText(fromInclusive(c.window))} of ${esc(c.source)}` +
    (c.window[0] < 0 || c.window[1] < 0 ? " (cells outside the map are zero padding)" : "");
  const n = c.patch.length;
  return `<p class="explain">Slide the ${c.kernel[0].length}×${c.kernel[0].length} kernel over the ${window}.
      Multiply cell by cell and add everything up, over all ${n} input channel${n > 1 ? "s" : ""}.</p>
    <p class="eq">Σ of the ${n} channel sums ${num(c.channel_sums.reduce((a, b) => a + b, 0), 4, "products-sum")}
      + bias ${num(c.bias, 4, "bias")} = ${num(c.sum, 4, "sum")} <small>(pre-activation)</small></p>${after(next)}
    <p class="muted">Channel by channel: input patch × kernel = products, summed.</p>${channels}`;
}

function pool(t) {
  const c = t.computation;
  const type = esc(c.pool_type);
  const what = c.pool_type === "max" ? "the largest value (marked) wins" : "the mean of the window";
  return `<p class="explain">${type} pooling over a ${c.values.length}×${c.values.length} window of
      ${esc(c.source)} channel ${esc(c.channel)} (${boxText(fromInclusive(c.window))}):
      ${what}.</p>${grid(c.values, { winner: c.winner, d: 3 })}
    <p class="eq">${type} = ${num(c.result, 4, "sum")}</p>`;
}

function activation(t) {
  const c = t.computation;
  const fn = ACTIVATIONS[t.kind];
  return `<p class="explain">${esc(t.kind.toUpperCase())} applies ${esc(fn.rule)} to the same unit of ${esc(c.source)}.</p>
    <p class="eq">${fn.of(num(c.before, 4, "before"))} = ${num(c.after, 4, "sum")}</p>`;
}

function flatten(t) {
  const c = t.computation;
  return `<p class="explain">Flatten copies ${esc(c.source)}[${esc(c.source_unit.join(", "))}] (channel, row, column) to
    position ${esc(t.index[0])} of a single vector: nothing is computed, only re-arranged.</p>
    <p class="eq">value ${num(c.value, 4, "sum")}</p>`;
}

function linear(t, next) {
  const c = t.computation;
  const rows = c.top.map((r) => `<tr><td>${esc(r.index)}</td><td>${f(r.input)}</td><td>${f(r.weight)}</td>
      <td class="${sign(r.product)}" data-role="product" data-value="${esc(r.product)}">${f(r.product, 4)}</td></tr>`).join("");
  return `<p class="explain">A weighted sum of all ${esc(c.inputs)} values of ${esc(c.source)}, plus a bias. The
      ${c.top.length} largest contributions (input × weight):</p>
    <table class="contrib"><thead><tr><th>input #</th><th>value</th><th>weight</th><th>product</th></tr></thead>
      <tbody>${rows}</tbody></table>
    <p class="eq">top ${c.top.length} ${num(c.top.reduce((a, r) => a + r.product, 0), 4, "top-sum")}
      + the other ${esc(c.inputs - c.top.length)} ${num(c.rest, 4, "rest")} + bias ${num(c.bias, 4, "bias")}
      = ${num(c.sum, 4, "sum")}</p>
    <p class="muted">All positive contributions ${f(c.positive_total)}, all negative ${f(c.negative_total)}.</p>${after(next)}`;
}

function softmax(t, label) {
  const c = t.computation;
  const i = t.index[0];
  const probs = c.probabilities ?? c.exponentials.map((e) => e / c.sum);
  const slopes = c.derivatives ?? null;
  const rows = c.logits.map((l, d) => `<tr class="${d === i ? "sel" : ""}" data-role="logit-row"><td>${d}</td>
      <td data-value="${esc(l)}">${f(l)}</td><td>${f(c.exponentials[d], 4)}</td><td>${f(probs[d], 4)}</td>${
  slopes ? `<td class="${sign(slopes[d])}">${f(slopes[d], 4)}</td>` : ""}</tr>`).join("");
  // −ln p(label) from the logits themselves (log-softmax), so a vanishing probability is never cut off at a floor.
  const loss = Math.log(c.sum) - (c.logits[label] - c.shift);
  const options = Array.from({ length: 10 }, (_, d) => `<option ${d === label ? "selected" : ""}>${d}</option>`).join("");
  const expression = c.expression ? `<p class="eq" data-role="expression">${esc(c.expression)}</p>` : "";
  return `<p class="explain">Softmax: exponentiate every logit (after subtracting the largest, ${f(c.shift)}, which
      changes nothing but keeps the numbers finite) and divide by the sum of all ${esc(c.logits.length)}.</p>
    ${expression}
    <table class="contrib"><thead><tr><th>digit</th><th>logit</th><th>e^(logit − max)</th><th>probability</th>${
  slopes ? `<th>∂p(${esc(i)})/∂logit</th>` : ""}</tr></thead><tbody>${rows}</tbody></table>
    <p class="eq">Σ = ${num(c.sum, 4, "exp-sum")}; p(${esc(i)}) = ${f(c.exponentials[i], 4)} / ${f(c.sum, 4)}
      = ${num(c.probability, 4, "sum")}</p>
    <p class="eq"><label>If the true digit is <select data-role="label">${options}</select></label>
      the cross-entropy loss is −ln p(${esc(label)}) = ${num(loss, 4, "loss")}</p>
    <p class="muted">Cross-entropy has no ceiling: a true digit given p = 0.01 costs −ln 0.01 ≈ 4.6, p = 0.000001 costs
      ≈ 13.8, and the cost keeps growing as p goes to 0.</p>`;
}

/** A conv or pool unit's map, opened in the lab's live step (?model=&layer=&channel=). */
function labLink(t) {
  if (t.kind !== "conv" && t.kind !== "pool") return "";
  const query = new URLSearchParams({ model: t.model ?? "", layer: t.layer, channel: String(t.index[0]) });
  return `<p><a data-testid="open-in-lab" href="${esc(`/lab?${query}`)}">Open ${esc(t.layer)} channel ${
    esc(t.index[0])} in the lab</a>: its kernel over every input channel, cell by cell, with what-if stride, padding
    and dilation.</p>`;
}

const BODIES = {
  input: (t) => `<p class="explain">An input pixel: ${esc(t.index[1])} rows down, ${esc(t.index[2])} across. 0 is black,
      1 is white.</p>`,
  conv: (t, { next }) => conv(t, next),
  pool: (t) => pool(t),
  relu: (t) => activation(t),
  tanh: (t) => activation(t),
  flatten: (t) => flatten(t),
  linear: (t, { next }) => linear(t, next),
  softmax: (t, { label }) => softmax(t, label ?? t.prediction),
};

/** Render a trace into the panel; `next` is {kind, value} of the activation that follows a conv/linear unit. */
export function renderDetail(panel, t, { next = null, label = null, onLabel = null } = {}) {
  if (!t) {
    panel.innerHTML = `<p class="muted">Select a unit to see how its value is computed.</p>`;
    return;
  }
  const body = BODIES[t.kind];
  const box = t.receptive_field.length ? t.receptive_field.at(-1).box : cellBox(t.index);
  panel.innerHTML = `<h3 class="unit">${esc(unitName(t))} = <span data-role="value" data-value="${esc(t.value)}">${
    f(t.value, 4)}</span></h3>
    <p class="muted">Sees input pixels at ${boxText(fromInclusive(box))}. The overlay on the input shows
      how much each pixel moves this unit (its gradient).</p>${body ? body(t, { next, label }) : ""}${labLink(t)}`;
  const select = panel.querySelector('select[data-role="label"]');
  if (select && onLabel) select.addEventListener("change", () => onLabel(Number(select.value)));
}
