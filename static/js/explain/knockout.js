// Knock-outs: a channel switched off, the prediction before and after.
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { percent } from "../shared/format.js";
import { postV2 } from "./explain_api.js";

function top(summary) {
  const p = summary.prediction;
  return p ? `${esc(p.label)} (${esc(percent(p.probability))})` : "—";
}

/** Zero one channel of a layer and show how the prediction and the later layers changed. */
export async function knockOut(pixels, layer, channel) {
  const out = $("ko-result");
  try {
    const body = (await postV2("/knockout", { pixels, layer, channel, layers: [] })).body;
    const changed = body.layers.filter((row) => row.changed > 0).length;
    out.innerHTML = `Before: <strong>${top(body.before)}</strong> · after switching off ${esc(layer)} channel `
      + `${esc(channel)}: <strong data-testid="knockout-after">${top(body.after)}</strong> `
      + `(${esc(changed)} of ${esc(body.layers.length)} later layers changed)`;
  } catch (err) {
    out.textContent = `Could not knock out: ${err.message}`;
  }
}
