// One input's capture on the server, through API v2: the first request sends the image and gets an input_id;
// later ones (layers as they come into view, channel pages, traces) send only the id, and when the server no
// longer holds it (409 capture_expired) the image is sent again and the request retried once.
import { fetchOk, parseFrame } from "../shared/api.js";

const API = "/api/v2";

/** An API v2 URL for the page's model. */
export function v2Url(path, model, params = {}) {
  const query = new URLSearchParams({ ...params, model });
  return `${API}${path}?${query}`;
}

export const getModels = async () => (await fetchOk(`${API}/models`)).json();
export const getModel = async (model) => (await fetchOk(v2Url("/model", model))).json();

/** A layer selection as the API takes it; empty means none. */
const layerParam = (names) => names.join(",");

export class Session {
  constructor(model) {
    this.model = model;
    this.blob = null;
    this.id = null;
    this.generation = 0; // bumped by each new input: answers for an older one are dropped by the callers
    this.bytes = 0; // response bytes received since the last new input (for the benchmark)
  }

  /** A new input: predict with the given layers' first channel (thumbnails); returns the parsed frame. */
  async start(blob, layers) {
    this.blob = blob;
    this.id = null;
    this.generation += 1;
    this.bytes = 0;
    return this._send(layers, "0:1");
  }

  async _send(layers, channels) {
    const params = { encoding: "u8", steps: "false", layers: layerParam(layers), ...(channels ? { channels } : {}) };
    const response = await fetchOk(v2Url("/predict", this.model, params), {
      method: "POST", headers: { "content-type": this.blob.type || "image/png" }, body: this.blob,
    });
    const frame = parseFrame(await this._count(response));
    this.id = frame.input_id;
    if (this.onId) this.onId(this.id);
    return frame;
  }

  async _count(response) {
    const buffer = await response.arrayBuffer();
    this.bytes += buffer.byteLength;
    return buffer;
  }

  /** Run fn with the current input id; on 409 capture_expired send the image again and retry once. */
  async _withId(fn) {
    if (!this.blob) throw new Error("No input yet: upload or draw an image first.");
    if (!this.id) await this._send([], null);
    try {
      return await fn(this.id);
    } catch (err) {
      if (err.status !== 409) throw err;
      await this._send([], null);
      return fn(this.id);
    }
  }

  /** Layers' values (a channel range "a:b" of every map, or all) for the current input: a parsed frame. */
  layers(names, channels = null) {
    return this._withId(async (id) => {
      const params = { encoding: "u8", steps: "false", ...(channels ? { channels } : {}) };
      const response = await fetchOk(v2Url("/predict", this.model, params), {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ input_id: id, layers: names }),
      });
      return parseFrame(await this._count(response));
    });
  }

  /** One unit's trace: fields in every earlier layer, arithmetic, d unit / d input. */
  trace(layer, index) {
    return this._withId(async (id) => {
      const response = await fetchOk(v2Url("/trace", this.model), {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ input_id: id, layer, index, top: 10 }),
      });
      return response.json();
    });
  }
}
