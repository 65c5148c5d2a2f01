// Central configuration: colours, sizes and timings shared by every module.
export const CONFIG = {
  api: "/api/v1",
  // Diverging scale for signed values: blue (negative) → white (zero) → red (positive).
  colors: {
    negative: [49, 104, 196],
    zero: [255, 255, 255],
    positive: [214, 69, 40],
    ink: [255, 255, 255], // input pixels: MNIST's light ink on black
    paper: [0, 0, 0],
    rf: "#f5b700",
    rfFill: "rgba(245, 183, 0, 0.18)",
    selected: "#111",
    rayNeutral: "rgba(90, 90, 90, 0.35)",
  },
  // Displayed size of one map, in CSS px, by layer kind and spatial size.
  mapSize(shape) {
    const side = shape[shape.length - 1];
    if (side >= 28) return 112;
    if (side >= 14) return 84;
    if (side >= 10) return 70;
    return 56;
  },
  vectorCell: 12, // CSS px per unit of a vector layer
  vectorColumns(n) {
    // Wrap long vectors into a grid whose column count divides n when it can.
    if (n <= 24) return n;
    for (const c of [20, 24, 21, 16, 12, 10]) if (n % c === 0) return c;
    return 20;
  },
  traceDebounceMs: 60,
  topContributions: 10,
  pad: { size: 280, brush: 18, ink: "#111", paper: "#fff", upload: 112 }, // upload: px per side sent live
};

export const LAYER_NOTES = {
  input: "The 28×28 image the network is given: one number per pixel, 0 (black) to 1 (white).",
  conv: "Convolution: each map slides one small learned kernel over the layer below, multiplying and adding.",
  relu: "ReLU keeps positive values and turns negative ones into 0.",
  tanh: "tanh squashes every value into −1…1.",
  pool: "Pooling shrinks each map, keeping the largest (max) or the mean (avg) of each window.",
  flatten: "Flatten lays the pooled maps out as one long vector (channel by channel, row by row).",
  linear: "Fully connected: every unit is a weighted sum of all units below, plus a bias.",
  softmax: "Softmax turns the 10 scores (logits) into probabilities that add up to 1.",
};
