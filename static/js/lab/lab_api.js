// The lab's API v2 client: presets, the convolution chain, softmax and losses, and the live network's layers.
// A busy server's 503 (with Retry-After) is retried as the visualiser does (shared/retry.js, noted by shared/busy.js).
import { fetchRetrying } from "../shared/retry.js";

const V2 = "/api/v2";

class LabApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The JSON of a 2xx answer to fetch(url, options), a busy 503 retried; any other answer throws a LabApiError. */
async function request(url, options) {
  const response = await fetchRetrying(url, options);
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    const err = answer && answer.error ? answer.error : { code: "http_error", message: response.statusText };
    throw new LabApiError(response.status, err.code, err.message);
  }
  return response.json();
}

function call(path, { params = {}, body = null } = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined));
  const text = query.toString();
  const options = body === null ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  return request(`${V2}${path}${text ? `?${text}` : ""}`, options);
}

export const getPresets = () => call("/lab/presets");
export const convolve = (body) => call("/lab/convolve", { body });
export const softmax = (scores, label) => call("/lab/softmax", { body: { scores, label } });
export const getModels = () => call("/models");
export const getModelInfo = (model) => call("/model", { params: { model } });
/** One conv or pool layer of a served model on an input ({pixels} | {image} | {input_id}), with what-if settings. */
export const liveLayer = (model, body) => call("/lab/layer", { params: { model }, body });

const v1 = (path, options = {}) => request(`/api/v1${path}`, options);

/** A gallery digit of the default model's MNIST test samples: {id, label, pixels}. */
export async function sampleDigit() {
  const { samples } = await v1("/samples?include_pixels=true");
  return samples[0];
}

/** A drawing (PNG blob) prepared as an MNIST digit by the server: the 28×28 pixels it would feed a LeNet. */
export async function prepareDigit(blob) {
  const r = await v1("/predict?layers=&steps=false", {
    method: "POST", headers: { "content-type": blob.type || "image/png" }, body: blob,
  });
  return r.input;
}
