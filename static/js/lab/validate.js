// The lab's form, checked before anything is sent: every number within what the server accepts, never clamped or
// rounded behind the user's back. Pure: takes the fields' text, returns the request values and the problems.

/** Each number field: its label, whether it must be whole, and its range. */
export const FIELDS = {
  bias: { label: "Bias", whole: false, min: -1e6, max: 1e6 },
  stride: { label: "Stride", whole: true, min: 1, max: 3 },
  "padding-number": { label: "Padding", whole: true, min: 0, max: 5 },
  slope: { label: "The leaky ReLU's slope", whole: false, min: 0, max: 1 },
  "pool-size": { label: "The pooling window", whole: true, min: 1, max: 5 },
  "pool-stride": { label: "The pooling stride", whole: true, min: 1, max: 5 },
};

/** The value of a field's text, or a sentence saying what is wrong with it. */
export function checkField(id, text) {
  const f = FIELDS[id];
  const want = f.whole ? `a whole number from ${f.min} to ${f.max}` : `a number from ${f.min.toLocaleString("en")} to ${
    f.max.toLocaleString("en")}`;
  const typed = String(text).trim();
  const value = Number(typed);
  if (typed === "" || !Number.isFinite(value)) return { error: `${f.label} must be ${want}.` };
  if ((f.whole && !Number.isInteger(value)) || value < f.min || value > f.max) {
    return { error: `${f.label} must be ${want} (you typed ${typed}).` };
  }
  return { value };
}

/**
 * The /lab/convolve settings from the fields' text: {values, errors: {id: sentence}}. Fields that do not apply
 * (the padding size unless padding is a number, the slope unless leaky ReLU, pooling numbers without pooling) are
 * not checked.
 */
export function checkSettings(text, { paddingMode, activation, poolType }) {
  const applies = {
    bias: true, stride: true, "padding-number": paddingMode === "number", slope: activation === "leaky_relu",
    "pool-size": poolType !== "none", "pool-stride": poolType !== "none",
  };
  const values = {};
  const errors = {};
  for (const id of Object.keys(FIELDS)) {
    if (!applies[id]) continue;
    const r = checkField(id, text[id]);
    if ("error" in r) errors[id] = r.error;
    else values[id] = r.value;
  }
  return { values, errors };
}
