// API client: predictions (binary frames: 8-bit display values by default, float32 on request), traces, model description, samples and the lab.
import { CONFIG } from "./config.js";
import { parseFrame } from "./frame.js";
import { fetchRetrying } from "./retry.js";

export { parseFrame };

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The page serves one model at a time, chosen by ?model=NAME in its address (the default model otherwise). */
function currentModel() {
  return new URLSearchParams(window.location.search).get("model");
}

/** An API URL with the given query parameters and, where the page has one, the chosen model. */
function apiUrl(path, params = {}) {
  const query = new URLSearchParams(params);
  const model = currentModel();
  if (model) query.set("model", model);
  const text = query.toString();
  return `${CONFIG.api}${path}${text ? `?${text}` : ""}`;
}

/** fetch (a busy server's 503 retried, see retry.js) that turns any non-2xx answer into an ApiError with the API's code. */
export async function fetchOk(url, options) {
  const response = await fetchRetrying(url, options);
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const err = body && body.error ? body.error : { code: "http_error", message: response.statusText };
    throw new ApiError(response.status, err.code, err.message);
  }
  return response;
}

async function request(path, params = {}, options = {}) {
  return (await fetchOk(apiUrl(path, params), options)).json();
}

/** POST a JSON body to an API path and return the JSON answer. */
export function postJson(path, body) {
  return request(path, {}, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
}

function withInput(input, extra = {}) {
  // input: {blob} → the image as the body (multipart when fields go with it); {pixels} → JSON.
  if (input.blob && !Object.keys(extra).length) {
    return { method: "POST", headers: { "content-type": input.blob.type || "image/png" }, body: input.blob };
  }
  if (input.blob) {
    const form = new FormData();
    form.append("image", input.blob, input.blob.type === "image/bmp" ? "digit.bmp" : "digit.png");
    for (const [k, v] of Object.entries(extra)) form.append(k, Array.isArray(v) ? v.join(",") : String(v));
    return { method: "POST", body: form };
  }
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pixels: input.pixels, ...extra }),
  };
}

/** Predict; encoding "u8" (display values, ~4× smaller) or "binary" (exact float32); layers: names, or all. */
export async function predict(input, { steps = true, encoding = "u8", layers = null } = {}) {
  const params = { encoding, steps, ...(layers === null ? {} : { layers: layers.join(",") }) };
  const response = await fetchOk(apiUrl("/predict", params), withInput(input));
  return parseFrame(await response.arrayBuffer());
}

export function trace(input, layer, index) {
  return request("/trace", {}, withInput(input, { layer, index, top: CONFIG.topContributions }));
}

export const getModel = () => request("/model");
export const getModels = () => request("/models");
export const getSamples = () => request("/samples", { include_pixels: true });
export const getLabPresets = () => request("/lab/presets");
