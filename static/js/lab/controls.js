// The lab's form: read the settings for /api/v2/lab/convolve, load a worked example, show only the inputs that apply.
import { $ } from "../shared/dom.js";

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const num = (id, fallback) => (Number.isFinite(Number($(id).value)) && $(id).value !== "" ? Number($(id).value) : fallback);

/** The pooling settings: type, window, stride, padding, floor or ceil mode, and the average's divisor. */
export function readPool() {
  return {
    type: $("pool-type").value,
    size: clamp(num("pool-size", 2), 1, 5),
    stride: clamp(num("pool-stride", 2), 1, 5),
    padding: clamp(num("pool-padding", 0), 0, 2),
    mode: $("pool-mode").value,
    divisor: $("pool-divisor").value,
  };
}

/** The request body for /api/v2/lab/convolve from the form, the input channels and the kernel slices. */
export function readSettings(image, kernel) {
  const mode = $("padding-mode").value;
  return {
    input: image,
    kernel,
    bias: num("bias", 0),
    stride: clamp(num("stride", 1), 1, 3),
    padding: mode === "number" ? clamp(num("padding-number", 0), 0, 5) : mode,
    dilation: clamp(num("dilation", 1), 1, 3),
    activation: $("activation").value,
    slope: clamp(num("slope", 0.01), 0, 1),
    pool: readPool(),
    dropout: clamp(num("dropout-p", 0.5), 0, 0.9),
    seed: clamp(num("dropout-seed", 0), 0, 2 ** 31 - 1),
  };
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
