// The detail panel: the arithmetic of the selected unit, from /api/v1/trace, with numbers that add up.
const f = (x, d = 3) => (x === null || x === undefined ? "·" : Number(x).toFixed(d));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const num = (x, d = 3, role = "") => `<span class="num"${role ? ` data-role="${role}"` : ""} data-value="${x}">${f(x, d)}</span>`;
const sign = (x) => (x > 0 ? "pos" : x < 0 ? "neg" : "");

function grid(values, { cls = "", winner = null, d = 2 } = {}) {
  const rows = values.map((row, y) => `<tr>${row.map((v, x) => {
    const win = winner && winner[0] === y && winner[1] === x ? " winner" : "";
    return `<td class="${sign(v)}${win}" data-value="${v}">${f(v, d)}</td>`;
  }).join("")}</tr>`);
  return `<table class="grid ${cls}">${rows.join("")}</table>`;
}

function unitName(t) {
  return `${t.layer}[${t.index.join(", ")}]`;
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
  const window = `window x ${c.window[0]}…${c.window[2]}, y ${c.window[1]}…${c.window[3]} of ${esc(c.source)}` +
    (c.window[0] < 0 || c.window[1] < 0 ? " (cells outside the map are zero padding)" : "");
  const after = next ? `<p class="eq">→ ${esc(next.kind)} → ${num(next.value, 4, "activation")}</p>` : "";
  return `<p class="explain">Slide the ${c.kernel[0].length}×${c.kernel[0].length} kernel over the ${window}.
      Multiply cell by cell and add everything up, over all ${c.patch.length} input channel${c.patch.length > 1 ? "s" : ""}.</p>
    <p class="eq">Σ of the ${c.patch.length} channel sums ${num(c.channel_sums.reduce((a, b) => a + b, 0), 4, "products-sum")}
      + bias ${num(c.bias, 4, "bias")} = ${num(c.sum, 4, "sum")} <small>(pre-activation)</small></p>${after}
    <p class="muted">Channel by channel: input patch × kernel = products, summed.</p>${channels}`;
}

function pool(t) {
  const c = t.computation;
  const what = c.pool_type === "max" ? "the largest value (marked) wins" : "the mean of the window";
  return `<p class="explain">${c.pool_type} pooling over a ${c.values.length}×${c.values.length} window of
      ${esc(c.source)} channel ${c.channel} (x ${c.window[0]}…${c.window[2]}, y ${c.window[1]}…${c.window[3]}):
      ${what}.</p>${grid(c.values, { winner: c.winner, d: 3 })}
    <p class="eq">${c.pool_type} = ${num(c.result, 4, "sum")}</p>`;
}

function activation(t) {
  const c = t.computation;
  const rule = t.kind === "relu" ? "max(0, x)" : "tanh(x)";
  return `<p class="explain">${t.kind.toUpperCase()} applies ${rule} to the same unit of ${esc(c.source)}.</p>
    <p class="eq">${rule.replace("x", num(c.before, 4, "before"))} = ${num(c.after, 4, "sum")}</p>`;
}

function flatten(t) {
  const c = t.computation;
  return `<p class="explain">Flatten copies ${esc(c.source)}[${c.source_unit.join(", ")}] (channel, row, column) to
    position ${t.index[0]} of a single vector: nothing is computed, only re-arranged.</p>
    <p class="eq">value ${num(c.value, 4, "sum")}</p>`;
}

function linear(t) {
  const c = t.computation;
  const rows = c.top.map((r) => `<tr><td>${r.index}</td><td>${f(r.input)}</td><td>${f(r.weight)}</td>
      <td class="${sign(r.product)}" data-role="product" data-value="${r.product}">${f(r.product, 4)}</td></tr>`).join("");
  return `<p class="explain">A weighted sum of all ${c.inputs} values of ${esc(c.source)}, plus a bias. The
      ${c.top.length} largest contributions (input × weight):</p>
    <table class="contrib"><thead><tr><th>input #</th><th>value</th><th>weight</th><th>product</th></tr></thead>
      <tbody>${rows}</tbody></table>
    <p class="eq">top ${c.top.length} ${num(c.top.reduce((a, r) => a + r.product, 0), 4, "top-sum")}
      + the other ${c.inputs - c.top.length} ${num(c.rest, 4, "rest")} + bias ${num(c.bias, 4, "bias")}
      = ${num(c.sum, 4, "sum")}</p>
    <p class="muted">All positive contributions ${f(c.positive_total)}, all negative ${f(c.negative_total)}.</p>`;
}

function softmax(t, label) {
  const c = t.computation;
  const probs = c.exponentials.map((e) => e / c.sum);
  const rows = c.logits.map((l, i) => `<tr class="${i === t.index[0] ? "sel" : ""}"><td>${i}</td><td>${f(l)}</td>
      <td>${f(c.exponentials[i], 4)}</td><td>${f(probs[i], 4)}</td></tr>`).join("");
  const p = probs[label];
  const loss = -Math.log(Math.max(p, 1e-45));
  const options = Array.from({ length: 10 }, (_, i) => `<option ${i === label ? "selected" : ""}>${i}</option>`).join("");
  return `<p class="explain">Softmax: exponentiate each logit (after subtracting the largest, ${f(c.shift)}, which
      changes nothing but keeps the numbers finite) and divide by the sum.</p>
    <table class="contrib"><thead><tr><th>digit</th><th>logit</th><th>e^(logit − max)</th><th>probability</th></tr>
      </thead><tbody>${rows}</tbody></table>
    <p class="eq">Σ = ${num(c.sum, 4, "exp-sum")}; p(${t.index[0]}) = ${f(c.exponentials[t.index[0]], 4)} / ${f(c.sum, 4)}
      = ${num(c.probability, 4, "sum")}</p>
    <p class="eq"><label>If the true digit is <select data-role="label">${options}</select></label>
      the cross-entropy loss is −ln p(${label}) = ${num(loss, 4, "loss")}</p>
    <p class="muted">A confident wrong answer (small p for the true digit) costs a lot: −ln 0.01 ≈ 4.6.</p>`;
}

/** Render a trace into the panel; `next` is {kind, value} of the activation that follows a conv/linear unit. */
export function renderDetail(panel, t, { next = null, label = null, onLabel = null } = {}) {
  if (!t) {
    panel.innerHTML = `<p class="muted">Select a unit to see how its value is computed.</p>`;
    return;
  }
  const body = {
    input: () => `<p class="explain">An input pixel: ${t.index[1]} rows down, ${t.index[2]} across. 0 is black, 1 is
      white.</p>`,
    conv: () => conv(t, next),
    pool: () => pool(t),
    relu: () => activation(t),
    tanh: () => activation(t),
    flatten: () => flatten(t),
    linear: () => linear(t) + (next ? `<p class="eq">→ ${esc(next.kind)} → ${num(next.value, 4, "activation")}</p>` : ""),
    softmax: () => softmax(t, label ?? t.prediction),
  }[t.kind];
  const box = t.receptive_field.length ? t.receptive_field.at(-1).box : [t.index[2], t.index[1], t.index[2], t.index[1]];
  panel.innerHTML = `<h3 class="unit">${esc(unitName(t))} = <span data-role="value" data-value="${t.value}">${f(t.value, 4)}</span></h3>
    <p class="muted">Sees input pixels x ${box[0]}…${box[2]}, y ${box[1]}…${box[3]}. The overlay on the input shows
      how much each pixel moves this unit (its gradient).</p>${body ? body() : ""}`;
  const select = panel.querySelector('select[data-role="label"]');
  if (select && onLabel) select.addEventListener("change", () => onLabel(Number(select.value)));
}
