// The lab's form: check and read the settings for /api/v2/lab/convolve, load a worked example, show only the
// inputs that apply.
import { $ } from "../shared/dom.js";
import { FIELD_IDS, checkSettings, requestBody } from "./validate.js";

/** Show each field's problem next to it (and tell assistive technology), or clear it. */
export function showFieldErrors(errors, ids = FIELD_IDS) {
  for (const id of ids) {
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
 * The request body for /api/v2/lab/convolve from the form, the input channels and the kernel slices: {body} when
 * every value is one the server accepts, else {errors: {id: sentence}} (shown next to the fields; nothing is
 * clamped or rounded).
 */
export function readSettings(image, kernel) {
  const text = Object.fromEntries(FIELD_IDS.map((id) => [id, $(id).value]));
  const { values, errors } = checkSettings(text);
  showFieldErrors(errors);
  if (Object.keys(errors).length) return { errors };
  return { body: requestBody(values, image, kernel) };
}

/** Set the form to a worked example's settings and say what it teaches. */
export function applyExample(example) {
  $("bias").value = example.bias;
  $("stride").value = example.stride;
  $("dilation").value = example.dilation;
  $("padding-mode").value = example.padding ? "number" : "valid";
  $("padding-number").value = example.padding || 1;
  $("activation").value = example.activation;
  for (const key of ["type", "size", "stride", "padding", "mode", "divisor"]) $(`pool-${key}`).value = example.pool[key];
  $("example-note").textContent = `${example.title}. ${example.teaches}`;
}

/** Show the padding-size box only for a number of cells, the slope only for leaky ReLU, the divisor for average. */
export function showApplicable() {
  $("padding-number").hidden = $("padding-mode").value !== "number";
  $("slope-box").hidden = $("activation").value !== "leaky_relu";
  $("divisor-box").hidden = $("pool-type").value !== "avg";
}

/** Run onChange whenever a setting of the convolution, activation, pooling or dropout changes. */
export function onSettingsChange(onChange) {
  const typed = ["bias", "stride", "dilation", "padding-number", "slope", "pool-size", "pool-stride", "pool-padding",
    "dropout-p", "dropout-seed"];
  for (const id of typed) $(id).addEventListener("input", onChange);
  for (const id of ["padding-mode", "activation", "pool-type", "pool-mode", "pool-divisor"]) {
    $(id).addEventListener("change", () => {
      showApplicable();
      onChange();
    });
  }
}
