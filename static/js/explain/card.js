// The unit card: the unit's value now, its distribution over the data set, the images that excite its channel most
// (cropped to the field of the peak) and an image optimised to excite it. Statistics not computed yet (409): the
// card starts their job, shows its progress, then opens.
import { PALETTE } from "../shared/colors.js";
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { fixed } from "../shared/format.js";
import { JobRun, getV2, postInput, postV2 } from "./explain_api.js";
import { displayCrop, histogramBars, histogramX } from "./logic.js";
import { paintPixels } from "./overlay.js";

async function computeStatistics(note) {
  const bar = $("stats-progress");
  const started = (await postV2("/statistics/compute")).body;
  if (!started.job) return;
  bar.hidden = false;
  note.textContent = `Ranking every unit over ${started.dataset} (once per model, then cached)…`;
  try {
    await new JobRun(started.job.url).wait((f) => { bar.value = f; });
  } finally {
    bar.hidden = true;
  }
}

async function fetchCard(body, note) {
  // Asked first, so the usual path has no 409 (a browser logs every failed request); the 409 is still handled.
  if (!(await getV2("/statistics")).ready) await computeStatistics(note);
  try {
    return (await postInput("/unit", body)).body;
  } catch (err) {
    if (err.code !== "statistics_not_ready") throw err;
    await computeStatistics(note);
    return (await postInput("/unit", body)).body;
  }
}

function showTop(top, model) {
  const grid = $("topk");
  grid.replaceChildren();
  for (const item of top) {
    const figure = document.createElement("figure");
    figure.dataset.index = String(item.index);
    figure.dataset.value = String(item.value);
    const canvas = document.createElement("canvas");
    paintPixels(canvas, displayCrop(item.crop, model.input.mean, model.input.std));
    canvas.setAttribute("aria-label", `data-set image ${item.index}, peak ${fixed(item.value, 2)} at [${item.unit.join(", ")}]`);
    const caption = document.createElement("figcaption");
    caption.innerHTML = `#${esc(item.index)} · ${esc(fixed(item.value, 2))}`;
    figure.append(canvas, caption);
    grid.append(figure);
  }
}

function drawHistogram(distribution, value) {
  const canvas = $("histogram");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = PALETTE.chartAxis;
  for (const b of histogramBars(distribution.counts, width, height - 2)) ctx.fillRect(b.x, b.y, b.w, b.h);
  const x = histogramX(value, distribution.edges, width);
  ctx.fillStyle = PALETTE.chartMarker;
  ctx.fillRect(Math.min(width - 2, x), 0, 2, height);
  const edges = distribution.edges;
  $("histogram-axis").innerHTML = `<span>${esc(fixed(edges[0], 2))}</span><span>${esc(distribution.of)}</span>`
    + `<span>${esc(fixed(edges[edges.length - 1], 2))}</span>`;
}

function summary(card) {
  const s = card.unit_statistics;
  const spread = s ? ` Over the data set this unit has mean ${fixed(s.mean, 2)}, σ ${fixed(s.std, 2)}, range ${
    fixed(s.low, 2)} … ${fixed(s.high, 2)}.` : "";
  const pct = card.percentile === null ? "" : ` ${fixed(card.percentile, 1)} % of the images give less.`;
  return `${card.layer} [${card.unit.join(", ")}] is ${fixed(card.value, 3)} for this input.${spread}${pct} `
    + `Top images ranked over ${card.count} by the ${card.ranking === "unit" ? "unit's value" : "channel's peak"}.`;
}

async function showVisualisation(layer, index) {
  const started = await postV2("/visualise", { layer, index, steps: 64, background: true });
  const bar = $("vis-progress");
  bar.hidden = false;
  try {
    const vis = await new JobRun(started.body.url).wait((f) => { bar.value = f; });
    paintPixels($("featvis"), vis.pixels);
    $("featvis").dataset.value = String(vis.value);
    $("vis-note").textContent = `Drives the ${index.length === 1 ? "channel's mean" : "unit"} to ${fixed(vis.value, 3)}.`;
  } finally {
    bar.hidden = true;
  }
}

/** Open the card of a unit ([c, y, x] or [i]) of a layer for the current input. */
export async function openCard(model, layer, index, perUnit) {
  const note = $("card-note");
  note.textContent = "Opening…";
  $("card-body").hidden = true;
  try {
    const card = await fetchCard({ layer: layer.name, index, k: 9, per_unit: perUnit }, note);
    $("card-body").hidden = false;
    $("unit-value").textContent = fixed(card.value, 3);
    drawHistogram(card.distribution, card.value);
    showTop(card.top, model);
    note.textContent = summary(card);
    // A channel's image for map layers (its mean); the unit itself for vectors or when ranked per unit.
    await showVisualisation(layer.name, layer.shape.length === 3 && !perUnit ? [index[0]] : index);
  } catch (err) {
    $("stats-progress").hidden = true;
    note.textContent = `Could not open the card: ${err.message}`;
  }
}
