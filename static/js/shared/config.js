// Central configuration: sizes and timings shared by every module (colours live in colors.js).
export const CONFIG = {
  api: "/api/v1",
  // Displayed size of one map, in CSS px, by its spatial size.
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
  tapCell: 44, // CSS px per unit of a layer zoomed for fingers
  traceDebounceMs: 60,
  topContributions: 10,
  pad: { brush: 18, upload: 112 }, // brush: CSS px; upload: px per side sent live
  savedInputKey: "convscope:input", // sessionStorage: the visualiser's last input, where the lab starts from
};
