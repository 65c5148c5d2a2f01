// What the pages know about layers: their roles come from GET /api/v1/model; kinds map to notes and rules here.

/** One sentence per layer kind, shown under each layer of the visualiser. */
export const LAYER_NOTES = {
  input: "The 28×28 image the network is given: one number per pixel, 0 (black) to 1 (white).",
  conv: "Convolution: each map slides one small learned kernel over every map of the previous layer (drawn above), "
    + "multiplying and adding.",
  relu: "ReLU keeps positive values and turns negative ones into 0.",
  tanh: "tanh squashes every value into −1…1.",
  pool: "Pooling shrinks each map, keeping the largest (max) or the mean (avg) of each window.",
  flatten: "Flatten lays the pooled maps out as one long vector (channel by channel, row by row).",
  linear: "Fully connected: every unit is a weighted sum of all units of the previous layer (drawn above), plus a bias.",
  softmax: "Softmax turns the 10 scores (logits) into probabilities that add up to 1.",
};

/**
 * The network's element-wise activation kinds: the rule as text, the rule written around an argument (so a number
 * never lands inside the name "max"), and the function itself.
 */
export const ACTIVATIONS = {
  relu: { rule: "max(0, x)", of: (arg) => `max(0, ${arg})`, apply: (x) => Math.max(0, x) },
  tanh: { rule: "tanh(x)", of: (arg) => `tanh(${arg})`, apply: Math.tanh },
};

/** Kinds whose units are a weighted sum plus a bias (the activation after them is shown with them). */
const WEIGHTED_KINDS = ["conv", "linear"];

/** The lab's activation choices as the page names them. */
export const LAB_ACTIVATIONS = {
  none: "no activation", relu: "ReLU", leaky_relu: "leaky ReLU", tanh: "tanh", sigmoid: "sigmoid",
};

/** The layer with a role ("input" | "hidden" | "logits" | "probabilities"), as the model endpoint gives it. */
export function layerWithRole(layers, role) {
  return layers.find((l) => l.role === role);
}

/** Whether a vector layer has one unit per digit (logits or probabilities), so its units get digit labels. */
export function isPerDigit(layer) {
  return layer.role === "logits" || layer.role === "probabilities";
}

/** The first layer of a kind (e.g. the first convolution), or undefined. */
export function firstOfKind(layers, kind) {
  return layers.find((l) => l.kind === kind);
}

/**
 * The activation that follows a weighted unit, for the detail panel: {layer, index} of the next layer when
 * layer i is conv/linear and layer i + 1 is an element-wise activation (same unit), else null.
 */
export function activationAfter(layers, i) {
  const next = layers[i + 1];
  if (!next || !WEIGHTED_KINDS.includes(layers[i].kind) || !(next.kind in ACTIVATIONS)) return null;
  return next;
}
