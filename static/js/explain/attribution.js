// Attribution: the method and its options, the target (a class as logit or probability, or any unit), long methods
// run as jobs with progress and Cancel; the answer drawn over the input, combined and per input channel.
import { legend } from "../shared/colors.js";
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { JobRun, postInput } from "./explain_api.js";
import { LONG_METHODS, METHOD_OPTIONS, methodFields, parseIndex } from "./logic.js";
import { paintOverlay, paintSigned } from "./overlay.js";

const CHANNEL_NAMES = ["red", "green", "blue"];
const run = { serial: 0, job: null, cancelled: 0 };

/** Show only the option groups the chosen method uses, and the target fields of the chosen kind. */
export function syncOptions() {
  const groups = METHOD_OPTIONS[$("method").value] || [];
  for (const el of document.querySelectorAll("[data-for]")) el.hidden = !groups.includes(el.dataset.for);
  const unit = $("target-kind").value === "unit";
  $("class-target").hidden = unit;
  $("unit-target").hidden = !unit;
}

function target() {
  if ($("target-kind").value !== "unit") {
    return { class_index: Number($("target").value), kind: $("quantity").value };
  }
  const index = parseIndex($("target-index").value);
  if (!index) throw new Error("Give the unit as c, y, x (or i for a vector layer).");
  return { layer: $("target-layer").value, index };
}

function request() {
  const method = $("method").value;
  const form = {
    steps: $("ig-steps").value, baseline: $("ig-baseline").value, precise: $("ig-precise").checked,
    samples: $("sg-samples").value, noise: $("sg-noise").value,
    window: $("occ-window").value, stride: $("occ-stride").value, camLayer: $("cam-layer").value,
  };
  return { method, target: target(), ...methodFields(method, form), background: LONG_METHODS.has(method) };
}

async function fetchAttribution(body, serial) {
  const bar = $("attr-progress");
  if (body.background) { bar.value = 0; bar.hidden = false; $("attr-cancel").hidden = false; }
  try {
    const started = await postInput("/attribute", body);
    if (started.status !== 202) return started.body;
    const job = new JobRun(started.body.url);
    // Cancelled, or superseded by a later request, before the job had an id: stop it now.
    if (run.cancelled === serial || serial !== run.serial) job.cancel();
    else run.job = job;
    try {
      return await job.wait((f) => { if (serial === run.serial) bar.value = f; });
    } finally {
      if (run.job === job) run.job = null;
    }
  } finally {
    if (serial === run.serial) { bar.hidden = true; $("attr-cancel").hidden = true; }
  }
}

function describe(answer) {
  const t = answer.target;
  const what = t.quantity === "unit" ? `unit ${t.layer} [${t.index.join(", ")}]` : `the ${t.quantity} of ${t.label ?? t.index[0]}`;
  let text = `${answer.method} of ${what} (${t.value.toFixed(3)}).`;
  if (answer.completeness) {
    const c = answer.completeness;
    text += ` Completeness error ${(c.error * 100).toFixed(2)} % (Σ attributions ${c.sum.toFixed(3)} vs f(x) − f(baseline) ${
      c.difference.toFixed(3)}).`;
  }
  if (answer.layer) text += ` Layer ${answer.layer}${answer.layer_reason ? `: ${answer.layer_reason}` : " (chosen)."}`;
  return text;
}

function showChannels(answer) {
  const box = $("channels");
  box.replaceChildren();
  const perChannel = answer.shape[0] > 1;
  $("channels-block").hidden = !perChannel;
  if (!perChannel) return;
  const r = answer.range.abs_max;
  answer.channels.forEach((map, k) => {
    const figure = document.createElement("figure");
    const canvas = document.createElement("canvas");
    canvas.setAttribute("data-testid", "attribution-channel");
    canvas.dataset.channel = String(k);
    paintSigned(canvas, map, r);
    canvas.setAttribute("aria-label", `Attribution to the ${CHANNEL_NAMES[k] ?? `channel ${k}`} input channel`);
    const caption = document.createElement("figcaption");
    caption.innerHTML = esc(CHANNEL_NAMES[k] ?? `channel ${k}`);
    figure.append(canvas, caption);
    box.append(figure);
  });
  $("channels-legend").replaceChildren(legend("signed", r));
}

/** Attribute the current input's target by the chosen method and draw it (a later call supersedes this one). */
export async function attribute(state) {
  const serial = ++run.serial;
  if (run.job) run.job.cancel();
  const note = $("attr-note");
  note.textContent = "Computing…";
  try {
    const answer = await fetchAttribution(request(), serial);
    if (serial !== run.serial) return;
    const r = paintSigned($("combined"), answer.combined);
    paintOverlay($("overlay"), state.pixels, answer.combined, r);
    $("attr-legend").replaceChildren(legend("signed", r));
    showChannels(answer);
    $("overlay").dataset.method = answer.method;
    $("combined").dataset.method = answer.method;
    $("combined").dataset.inputId = answer.input_id; // the capture this map explains

    note.textContent = describe(answer);
  } catch (err) {
    if (serial !== run.serial) return;
    note.textContent = err.code === "cancelled" ? "Cancelled." : `Could not attribute: ${err.message}`;
    if (err.code !== "cancelled") clearMaps(); // an old method's map under this note would read as its answer
  }
}

function clearMaps() {
  for (const id of ["combined", "overlay"]) {
    const canvas = $(id);
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    delete canvas.dataset.method;
  }
  $("attr-legend").replaceChildren();
  $("channels").replaceChildren();
  $("channels-block").hidden = true;
}

/** Cancel the running attribution job, if any. */
export function cancelAttribution() {
  run.cancelled = run.serial;
  if (run.job) run.job.cancel();
}
