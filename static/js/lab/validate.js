// The lab's form, checked before anything is sent: every value within what the server accepts (the limits of
// ConvolveRequestV2 in app/web/schemas/lab.py), never clamped or rounded behind the user's back. Pure: takes the
// fields' text, returns the request values and the problems.

/** Each number field: its label, whether it must be whole, and its range. */
export const FIELDS = {
  bias: { label: "Bias", whole: false, min: -1e6, max: 1e6 },
  stride: { label: "Stride", whole: true, min: 1, max: 3 },
  "padding-number": { label: "Padding", whole: true, min: 0, max: 5 },
  dilation: { label: "Dilation", whole: true, min: 1, max: 3 },
  slope: { label: "The leaky ReLU's slope", whole: false, min: 0, max: 1 },
  "pool-size": { label: "The pooling window", whole: true, min: 1, max: 5 },
  "pool-stride": { label: "The pooling stride", whole: true, min: 1, max: 5 },
  "pool-padding": { label: "The pooling padding", whole: true, min: 0, max: 2 },
  "dropout-p": { label: "Dropout p", whole: false, min: 0, max: 0.9 },
  "dropout-seed": { label: "The random step", whole: true, min: 0, max: 2 ** 31 - 1 },
};

/** Each choice field: its label and the values the server accepts. */
export const CHOICES = {
  "padding-mode": { label: "Padding", options: ["valid", "same", "number"] },
  activation: { label: "The activation", options: ["none", "relu", "leaky_relu", "tanh", "sigmoid"] },
  "pool-type": { label: "Pooling", options: ["none", "max", "avg", "sum"] },
  "pool-mode": { label: "The pooling edge", options: ["floor", "ceil"] },
  "pool-divisor": { label: "The average's divisor", options: ["covered", "padded", "window"] },
};

/** The live step's number fields (blank what-ifs mean the layer's own setting): the limits of LayerRequest. */
export const LIVE_FIELDS = {
  "live-channel": { label: "The channel", whole: true, min: 0, max: 100_000 },
  "live-stride": { label: "The stride", whole: true, min: 1, max: 8 },
  "live-padding": { label: "The padding", whole: true, min: 0, max: 10 },
  "live-dilation": { label: "The dilation", whole: true, min: 1, max: 5 },
};

/** Every field the form is checked on, numbers and choices. */
export const FIELD_IDS = [...Object.keys(FIELDS), ...Object.keys(CHOICES)];

const show = (n) => n.toLocaleString("en", { maximumFractionDigits: 6 });

/** The value of a field's text, or a sentence saying what is wrong with it. */
export function checkField(id, text) {
  if (id in CHOICES) {
    const c = CHOICES[id];
    return c.options.includes(text) ? { value: text } : { error: `${c.label} must be one of ${c.options.join(", ")}.` };
  }
  return checkNumber(FIELDS[id] ?? LIVE_FIELDS[id], text);
}

/** A kernel cell's value (the server's Number: −1,000,000 to 1,000,000), or a sentence saying what is wrong. */
export function checkKernelCell(text) {
  return checkNumber({ label: "A kernel value", whole: false, min: -1e6, max: 1e6 }, text);
}

/** A number field's value, or a sentence saying what is wrong with it. */
function checkNumber(f, text) {
  const want = `${f.whole ? "a whole number" : "a number"} from ${show(f.min)} to ${show(f.max)}`;
  const typed = String(text ?? "").trim();
  const value = Number(typed);
  if (typed === "" || !Number.isFinite(value)) return { error: `${f.label} must be ${want}.` };
  if ((f.whole && !Number.isInteger(value)) || value < f.min || value > f.max) {
    return { error: `${f.label} must be ${want} (you typed ${typed}).` };
  }
  return { value };
}

/** Which fields apply to these choices: the padding size, the slope, the pooling numbers and divisor only when used. */
function applicable(text) {
  const pooled = text["pool-type"] !== "none";
  return {
    "padding-number": text["padding-mode"] === "number", slope: text.activation === "leaky_relu",
    "pool-size": pooled, "pool-stride": pooled, "pool-padding": pooled, "pool-mode": pooled,
    "pool-divisor": text["pool-type"] === "avg",
  };
}

/**
 * The /api/v2/lab/convolve settings from the fields' text ({id: text} for every id of FIELD_IDS):
 * {values, errors: {id: sentence}}. Fields that do not apply are not checked. The pooling padding may be at most
 * half the window, as PyTorch (and so the server) requires.
 */
export function checkSettings(text) {
  const applies = applicable(text);
  const values = {};
  const errors = {};
  for (const id of FIELD_IDS) {
    if (applies[id] === false) continue;
    const r = checkField(id, text[id]);
    if ("error" in r) errors[id] = r.error;
    else values[id] = r.value;
  }
  const [size, padding] = [values["pool-size"], values["pool-padding"]];
  if (size !== undefined && padding !== undefined && 2 * padding > size) {
    errors["pool-padding"] = `The pooling padding must be at most half the window: at most ${
      Math.floor(size / 2)} for a ${size}×${size} window (you typed ${padding}).`;
    delete values["pool-padding"];
  }
  return { values, errors };
}

/** The request body from checked values (fields that do not apply are sent as the server's defaults). */
export function requestBody(v, image, kernel) {
  return {
    input: image,
    kernel,
    bias: v.bias,
    stride: v.stride,
    padding: v["padding-mode"] === "number" ? v["padding-number"] : v["padding-mode"],
    dilation: v.dilation,
    activation: v.activation,
    slope: v.slope ?? 0.01,
    pool: {
      type: v["pool-type"], size: v["pool-size"] ?? 2, stride: v["pool-stride"] ?? 2,
      padding: v["pool-padding"] ?? 0, mode: v["pool-mode"] ?? "floor", divisor: v["pool-divisor"] ?? "covered",
    },
    dropout: v["dropout-p"],
    seed: v["dropout-seed"],
  };
}

/**
 * The live step's channel and what-ifs from the fields' text ({id: text} for every id of LIVE_FIELDS), for a layer
 * with `channels` channels: {values: {channel, stride?, padding?, dilation?}, errors: {id: sentence}}. A blank
 * what-if is the layer's own setting (left out); the channel must exist in the layer, never silently moved into it.
 */
export function checkLive(text, channels) {
  const values = {};
  const errors = {};
  for (const [id, field] of Object.entries(LIVE_FIELDS)) {
    const key = id.slice("live-".length);
    const blank = String(text[id] ?? "").trim() === "";
    if (blank && key !== "channel") continue;
    const f = key === "channel" ? { ...field, max: Math.min(field.max, channels - 1) } : field;
    const r = checkNumber(f, text[id]);
    if ("error" in r) errors[id] = r.error;
    else values[key] = r.value;
  }
  return { values, errors };
}
