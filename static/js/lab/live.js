// The lab on the live network: any served model's convolution or pooling layer, its real kernels applied to the
// real input it receives, every input channel's products and their sum; change stride, padding or dilation (and a
// pool's floor/ceil mode and divisor) to see what the layer would produce instead. Numbers from /api/v2/lab/layer.
import { $ } from "../shared/dom.js";
import { friendly } from "../shared/errors.js";
import { esc } from "../shared/escape.js";
import { ChannelStrip } from "./channels.js";
import { outputSizeHtml, poolSizeHtml } from "./describe.js";
import { boxMarks, cellMarks, explainPool } from "./explain.js";
import { getModelInfo, getModels, liveLayer } from "./lab_api.js";
import { showFieldErrors } from "./controls.js";
import { MapView } from "./maps.js";
import { LIVE_FIELDS, checkLive } from "./validate.js";

const OVERRIDES = ["stride", "padding", "dilation", "mode", "divisor"];

/** The what-if settings the form asks for (blank: the layer's own). */
export function readWhatIf(read) {
  const out = {};
  for (const key of OVERRIDES) {
    const v = read(key);
    if (v === "" || v === null || v === undefined) continue;
    out[key] = ["mode", "divisor"].includes(key) ? v : Number(v);
  }
  return out;
}

/** The layers the live lab can show: convolutions and pools, as <option>s. */
export function layerOptions(layers) {
  return layers.filter((l) => l.kind === "conv" || l.kind === "pool").map((l) =>
    `<option value="${esc(l.name)}">${esc(l.name)} — ${esc(l.op)}, output ${esc(l.shape.join("×"))}</option>`).join("");
}

/** A setting as a student reads it: one number when every axis and side agree, else per axis. */
export function settingText(v) {
  const flat = Array.isArray(v) ? v.flat() : [v];
  return flat.every((x) => x === flat[0]) ? String(flat[0]) : JSON.stringify(v);
}

/** What the sum under the channel strip adds: every input channel's products (some maybe not shown) and the bias. */
export function sumNote(total, shown, bias) {
  const what = total === 1 ? "The input channel's products" : `The products of all ${total} input channels`;
  const hidden = shown < total ? ` (${shown} shown above)` : "";
  return `${what}${hidden}, + bias ${bias.toFixed(4)}, give the feature map:`;
}

/** One sentence on the settings used against the layer's own. */
export function settingsText(r) {
  const show = (s) => Object.entries(s).filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${settingText(v)}`).join(", ");
  if (r.as_network) return `The layer's own settings (${show(r.layer_settings)}): the map below is the network's own.`;
  return `What if: ${show(r.settings)} instead of the layer's own ${show(r.layer_settings)}.`;
}

/** The largest difference between the recomputed map and the network's own channel. */
export function largestDifference(a, b) {
  let m = 0;
  a.forEach((row, y) => row.forEach((v, x) => { m = Math.max(m, Math.abs(v - b[y][x])); }));
  return m;
}

export class LivePanel {
  /** input(info) → {body, text}: what to send as the model's input, and where it comes from. */
  constructor({ input }) {
    this.input = input;
    this.info = null;
    this.inputId = null;
    this.timer = 0;
    this.token = 0;
    this.strip = new ChannelStrip($("live-channels"));
    this.feature = new MapView($("live-feature"));
    this.network = new MapView($("live-network"));
    this.pooledInput = new MapView($("live-pool-input"));
  }

  /** Fill the model list and select the model, layer and channel a link asked for (?model=&layer=&channel=). */
  async init({ model = null, layer = null, channel = null } = {}) {
    const { models, default: fallback } = await getModels();
    const names = models.map((m) => m.name);
    $("live-model").innerHTML = models.map((m) => `<option value="${esc(m.name)}">${esc(m.title)}</option>`).join("");
    $("live-model").value = names.includes(model) ? model : fallback;
    $("live-model").addEventListener("change", () => this.selectModel($("live-model").value));
    $("live-layer").addEventListener("change", () => this.#layerChanged());
    for (const id of ["live-channel", "live-stride", "live-padding", "live-dilation"]) {
      $(id).addEventListener("input", () => this.schedule());
    }
    for (const id of ["live-mode", "live-divisor"]) $(id).addEventListener("change", () => this.schedule());
    $("live-reset").addEventListener("click", () => this.#reset());
    await this.selectModel($("live-model").value, { layer, channel });
  }

  async selectModel(name, { layer = null, channel = null } = {}) {
    this.info = await getModelInfo(name);
    this.inputId = null;
    $("live-layer").innerHTML = layerOptions(this.info.layers);
    const names = [...$("live-layer").options].map((o) => o.value);
    $("live-layer").value = names.includes(layer) ? layer : names[0];
    this.#layerChanged(channel);
  }

  #layerChanged(channel = null) {
    const layer = this.info.layers.find((l) => l.name === $("live-layer").value);
    $("live-channel").max = String(layer.shape[0] - 1);
    if (channel !== null) $("live-channel").value = String(channel); // as asked: an error if the layer lacks it
    const pool = layer.kind === "pool";
    $("live-pool-options").hidden = !pool;
    $("live-divisor-box").hidden = !(pool && layer.params.pool_type === "avg");
    $("live-channel-label").textContent = pool ? "channel" : "output channel";
    this.#reset();
  }

  #reset() {
    for (const id of ["live-stride", "live-padding", "live-dilation"]) $(id).value = "";
    $("live-mode").value = "";
    $("live-divisor").value = "";
    this.schedule();
  }

  /** The input changed (a new drawing): forget the capture and run again. */
  inputChanged() {
    this.inputId = null;
    if (this.info) this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), 40);
  }

  async run() {
    const layer = $("live-layer").value;
    const info = this.info.layers.find((l) => l.name === layer);
    const text = Object.fromEntries(Object.keys(LIVE_FIELDS).map((id) => [id, $(id).value]));
    const { values, errors } = checkLive(text, info.shape[0]);
    showFieldErrors(errors, Object.keys(LIVE_FIELDS));
    const token = ++this.token; // any answer still on its way is now late
    if (Object.keys(errors).length) {
      this.clear();
      $("live-status").textContent = `Nothing computed: ${Object.values(errors).join(" ")}`;
      return;
    }
    const { channel } = values;
    const whatIf = readWhatIf((key) => (["mode", "divisor"].includes(key) ? $(`live-${key}`).value : values[key]));
    const source = this.input(this.info);
    const body = { ...(this.inputId ? { input_id: this.inputId } : source.body), layer, channel, ...whatIf };
    try {
      const r = await liveLayer(this.info.name, body);
      if (token !== this.token) return; // a newer request is on its way: never show an older answer over it
      this.inputId = r.input_id;
      $("live-source").textContent = source.text;
      $("live-status").textContent = "";
      this.show(r);
      history.replaceState(null, "", `?model=${encodeURIComponent(this.info.name)}&layer=${
        encodeURIComponent(layer)}&channel=${channel}`);
    } catch (err) {
      if (err.status === 409 && this.inputId) {
        this.inputId = null;
        return this.run();
      }
      if (token !== this.token) return;
      this.clear();
      $("live-status").textContent = `The lab could not compute this: ${friendly(err)}`;
    }
  }

  /** Nothing stale after an error: the maps, sizes, sums and the cell's arithmetic of the last answer go. */
  clear() {
    const root = $("live-result");
    for (const key of ["layer", "channel", "asNetwork"]) delete root.dataset[key];
    for (const view of [this.feature, this.network, this.pooledInput]) {
      Object.assign(view, { values: null, onCell: null });
      view.container.replaceChildren();
      for (const key of ["shape", "sum", "scale"]) delete view.container.dataset[key];
    }
    this.strip.clear();
    for (const id of ["live-settings", "live-size", "live-sum-note", "live-match", "live-source"]) {
      $(id).textContent = "";
    }
    $("live-detail").innerHTML = '<p class="muted">Fix the setting marked above to see the layer again.</p>';
  }

  show(r) {
    const root = $("live-result");
    root.dataset.model = this.info.name;
    root.dataset.layer = r.layer;
    root.dataset.channel = String(r.channel);
    root.dataset.asNetwork = String(r.as_network);
    $("live-settings").textContent = settingsText(r);
    $("live-size").innerHTML = r.kind === "conv" ? outputSizeHtml(r.output_size) : poolSizeHtml(r.pooled);
    const grey = r.source === this.info.layers[0].name && this.info.input.preprocess === "mnist";
    if (r.kind === "conv") this.#conv(r, grey);
    else this.#pool(r, grey);
    const onCell = r.kind === "conv" ? (y, x) => this.#convCell(r, y, x) : (y, x) => this.#poolCell(r, y, x);
    this.feature.render(r.feature_map, { onCell });
    const hint = r.kind === "conv" ? "its sum over the input channels" : "its window and how it is pooled";
    $("live-detail").innerHTML = `<p class="muted">Hover or tap a cell of the map computed here to see ${hint}.</p>`;
    if (r.network) {
      this.network.render(r.network);
      const diff = largestDifference(r.feature_map, r.network);
      $("live-match").textContent = `Recomputed here and the network's own channel agree to ${diff.toExponential(1)}.`;
    } else {
      this.network.container.replaceChildren();
      $("live-match").textContent = "These are not the layer's settings, so the network never computes this map; "
        + "reset to compare with the network's own.";
    }
  }

  #conv(r, grey) {
    $("live-pool-box").hidden = true;
    const [first, last] = r.shown;
    const channels = r.input.map((plane, i) => ({
      label: `input channel ${first + i} of ${r.source}`, input: plane, padding: 0, kernel: r.kernel[i],
      products: r.per_channel[i],
    }));
    this.strip.render(channels, { grey });
    const total = r.input_channels[1] - r.input_channels[0];
    $("live-sum-note").textContent = sumNote(total, last - first, r.bias);
  }

  /** Feature cell (y, x) of a convolution: the window on each input channel and the per-channel sums. */
  #convCell(r, y, x) {
    const [[pt], [pl]] = r.settings.padding;
    const [sh, sw] = r.settings.stride;
    const [dh, dw] = r.settings.dilation;
    const [kh, kw] = r.kernel_size;
    const [h, w] = [r.input[0].length, r.input[0][0].length];
    const taps = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) taps.push([y * sh - pt + i * dh, x * sw - pl + j * dw]);
    }
    const inside = taps.filter(([a, b]) => a >= 0 && b >= 0 && a < h && b < w);
    for (const [input, , products] of this.strip.views) {
      input.mark(cellMarks(inside));
      products.mark({ [`${y},${x}`]: "winner" });
    }
    this.feature.mark({ [`${y},${x}`]: "winner" });
    $("live-detail").innerHTML = convCellHtml(r, y, x, taps.length - inside.length);
  }

  #pool(r, grey) {
    this.strip.clear();
    $("live-pool-box").hidden = false;
    $("live-sum-note").textContent = `${r.pooled.type} pooling of channel ${r.channel} of ${r.source}:`;
    this.pooledInput.render(r.input[0], { grey });
  }

  #poolCell(r, y, x) {
    const { box, winner, html } = explainPool({ pooled: r.pooled, activated: r.input[0] }, y, x);
    this.pooledInput.mark(boxMarks(box, winner));
    this.feature.mark({ [`${y},${x}`]: "winner" });
    $("live-detail").innerHTML = html;
  }
}

/** A live conv cell's sum: each shown channel's products at [y, x], the rest, the bias, and the value. */
export function convCellHtml(r, y, x, padded = 0) {
  const parts = r.per_channel.map((m) => m[y][x]);
  const value = r.feature_map[y][x];
  const shown = parts.reduce((a, b) => a + b, 0);
  const rest = value - r.bias - shown;
  const hidden = r.input_channels[1] - r.input_channels[0] - parts.length;
  const terms = parts.map((v) => v.toFixed(3)).join(" + ")
    + (hidden > 0 ? ` + (the other ${hidden} channels) ${rest.toFixed(3)}` : "");
  const pad = padded ? ` ${padded} of the kernel's cells fall in the zero padding.` : "";
  return `<p><b>${esc(r.layer)}[${esc(r.channel)}, ${esc(y)}, ${esc(x)}]</b>: each input channel's products under the
      kernel, summed, then added together with the bias.${pad}</p>
    <p class="eq">${esc(terms)} + bias ${esc(r.bias.toFixed(3))} =
      <b data-role="live-sum" data-value="${esc(value)}">${esc(value.toFixed(4))}</b></p>`;
}
