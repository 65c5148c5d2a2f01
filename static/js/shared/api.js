// API client: predictions (binary float32 frames), traces, model description, samples and the lab.
import { CONFIG } from "./config.js";

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

/** fetch that turns any non-2xx answer into an ApiError carrying the API's error code and message. */
async function fetchOk(url, options) {
  const response = await fetch(url, options);
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

/**
 * Parse the binary frame: uint32 LE header length, JSON header, padding to 4 bytes, then raw float32.
 * Each layer gets `data`, a Float32Array view on the frame (no copy, no base64).
 */
export function parseFrame(buffer) {
  const n = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  const start = 4 + n + ((4 - ((4 + n) % 4)) % 4);
  for (const layer of header.layers) {
    layer.data = new Float32Array(buffer, start + layer.values.offset, layer.values.length);
  }
  return header;
}

export async function predict(input, { steps = true } = {}) {
  const response = await fetchOk(apiUrl("/predict", { encoding: "binary", steps }), withInput(input));
  return parseFrame(await response.arrayBuffer());
}

export function trace(input, layer, index) {
  return request("/trace", {}, withInput(input, { layer, index, top: CONFIG.topContributions }));
}

export const getModel = () => request("/model");
export const getModels = () => request("/models");
export const getSamples = () => request("/samples", { include_pixels: true });
export const getLabPresets = () => request("/lab/presets");
