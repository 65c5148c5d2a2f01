// The lab's form: read the settings for /lab/convolve, load a worked example, show only the inputs that apply.
import { $ } from "../shared/dom.js";

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** The request body for /lab/convolve from the form, the input image and the kernel. */
export function readSettings(image, kernel) {
  const mode = $("padding-mode").value;
  return {
    input: image,
    kernel,
    bias: Number($("bias").value) || 0,
    stride: clamp(Number($("stride").value) || 1, 1, 3),
    padding: mode === "number" ? clamp(Number($("padding-number").value) || 0, 0, 5) : mode,
    activation: $("activation").value,
    slope: Number($("slope").value) || 0,
    pool: { type: $("pool-type").value, size: Number($("pool-size").value) || 2,
      stride: Number($("pool-stride").value) || 2 },
  };
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
