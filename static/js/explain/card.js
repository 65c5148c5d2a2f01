// The unit card: data-set statistics (a job, with progress), the channel's strongest digits, the optimised image.
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { getV2, postV2, waitForJob } from "./explain_api.js";
import { paintPixels } from "./overlay.js";

async function ensureStatistics() {
  const state = await getV2("/statistics");
  if (state.ready) return;
  const bar = $("stats-progress");
  bar.hidden = false;
  $("card-note").textContent = `Ranking the units over ${state.dataset} (once per model)…`;
  const started = await postV2("/statistics/compute");
  if (started.body.job) await waitForJob(started.body.job.url, (f) => { bar.value = f; });
  bar.hidden = true;
}

function showTop(top) {
  const grid = $("topk");
  grid.replaceChildren();
  for (const item of top) {
    const figure = document.createElement("figure");
    const canvas = document.createElement("canvas");
    paintPixels(canvas, item.crop);
    canvas.setAttribute("aria-label", `test digit ${item.index}, peak ${item.value.toFixed(2)}`);
    const caption = document.createElement("figcaption");
    caption.innerHTML = `#${esc(item.index)} · ${esc(item.value.toFixed(2))}`;
    figure.append(canvas, caption);
    grid.append(figure);
  }
}

/** Open the card of a channel (its unit at the centre of the map) for the current input pixels. */
export async function openCard(pixels, layer, channel) {
  const note = $("card-note");
  try {
    await ensureStatistics();
    const index = layer.shape.length === 3
      ? [channel, Math.floor(layer.shape[1] / 2), Math.floor(layer.shape[2] / 2)] : [channel];
    const card = (await postV2("/unit", { pixels, layer: layer.name, index, k: 9 })).body;
    showTop(card.top);
    const vis = (await postV2("/visualise", { layer: layer.name, index: [channel], steps: 64 })).body;
    paintPixels($("featvis"), vis.pixels);
    $("featvis").dataset.value = String(vis.value);
    note.textContent = `${layer.name} channel ${channel}: ranked over ${card.count} digits by the channel's peak; `
      + `the optimised image drives its mean to ${vis.value.toFixed(2)}.`;
  } catch (err) {
    $("stats-progress").hidden = true;
    note.textContent = `Could not open the card: ${err.message}`;
  }
}
