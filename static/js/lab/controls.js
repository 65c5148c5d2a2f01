// The lab's form: read the settings for /lab/convolve, load a worked example, show only the inputs that apply.
import { $ } from "../shared/dom.js";
import { FIELDS, checkSettings } from "./validate.js";

/** Show each field's problem next to it (and tell assistive technology), or clear it. */
function showFieldErrors(errors) {
  for (const id of Object.keys(FIELDS)) {
    const input = $(id);
    let note = document.getElementById(`${id}-error`);
    if (!note) {
      note = document.createElement("span");
      note.id = `${id}-error`;
      note.className = "field-error";
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
    }
    note.textContent = errors[id] || "";
    input.setAttribute("aria-invalid", String(Boolean(errors[id])));
    if (errors[id]) input.setAttribute("aria-describedby", note.id);
    else input.removeAttribute("aria-describedby");
  }
}

/**
 * The request body for /lab/convolve from the form, the input image and the kernel: {body} when every number is
 * one the server accepts, else {errors: {id: sentence}} (shown next to the fields; nothing is clamped or rounded).
 */
export function readSettings(image, kernel) {
  const mode = $("padding-mode").value;
  const poolType = $("pool-type").value;
  const text = Object.fromEntries(Object.keys(FIELDS).map((id) => [id, $(id).value]));
  const { values: v, errors } = checkSettings(text, { paddingMode: mode, activation: $("activation").value, poolType });
  showFieldErrors(errors);
  if (Object.keys(errors).length) return { errors };
  return { body: {
    input: image,
    kernel,
    bias: v.bias,
    stride: v.stride,
    padding: mode === "number" ? v["padding-number"] : mode,
    activation: $("activation").value,
    slope: v.slope ?? 0.01,
    pool: { type: poolType, size: v["pool-size"] ?? 2, stride: v["pool-stride"] ?? 2 },
  } };
}

/** Set the form to a worked example's stride, activation and pooling (no padding). */
export function applyExample(example) {
  $("stride").value = example.stride;
  $("padding-mode").value = "valid";
  $("activation").value = example.activation;
  $("pool-type").value = example.pool.type;
  $("pool-size").value = example.pool.size;
  $("pool-stride").value = example.pool.stride;
  $("example-note").textContent = `${example.title}: ${example.expect}.`;
}

/** Show the padding-size box only for a number of pixels, the slope only for leaky ReLU. */
export function showApplicable() {
  $("padding-number").hidden = $("padding-mode").value !== "number";
  $("slope-box").hidden = $("activation").value !== "leaky_relu";
}

/** Run onChange whenever a setting of the convolution, activation or pooling changes. */
export function onSettingsChange(onChange) {
  for (const id of ["bias", "stride", "padding-number", "slope", "pool-size", "pool-stride"]) {
    $(id).addEventListener("input", onChange);
  }
  for (const id of ["padding-mode", "activation", "pool-type"]) {
    $(id).addEventListener("change", () => {
      showApplicable();
      onChange();
    });
  }
}
