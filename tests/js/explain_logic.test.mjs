import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  LONG_METHODS, METHOD_OPTIONS, comparable, defaultDifferenceLayer, differences, displayCrop, displayPixels, histogramBars,
  histogramX, knockoutRows, methodFields, parseIndex, tileLayout,
} from "../../static/js/explain/logic.js";
import { explainHref } from "../../static/js/shared/links.js";

describe("explain: input values back to display pixels", () => {
  it("undoes per-channel normalisation and clips to 0..1", () => {
    // Two channels of 1×2: v·std + mean, computed by hand.
    const values = [0, 1, -1, 10];
    const out = displayPixels(values, [2, 1, 2], [0.5, 0.25], [0.25, 0.5]);
    assert.deepEqual(out, [[[0.5, 0.75]], [[0, 1]]]); // 0.25 − 0.5 < 0 → 0; 0.25 + 5 > 1 → 1
  });

  it("keeps a digit model's values (no mean/std) as they are", () => {
    assert.deepEqual(displayPixels([0, 0.2, 0.7, 1], [1, 2, 2]), [[[0, 0.2], [0.7, 1]]]);
  });

  it("maps a crop [C][h][w] the same way", () => {
    assert.deepEqual(displayCrop([[[0, 2]]], [0.5], [0.25]), [[[0.5, 1]]]);
  });
});

describe("explain: method options", () => {
  it("sends only the chosen method's fields, as numbers", () => {
    const form = { steps: "64", baseline: "blurred", precise: true, samples: "8", noise: "0.2", window: "6", stride: "3",
      camLayer: "conv1" };
    assert.deepEqual(methodFields("integrated_gradients", form), { steps: 64, baseline: "blurred", precise: true });
    assert.deepEqual(methodFields("smoothgrad", form), { samples: 8, noise: 0.2 });
    assert.deepEqual(methodFields("occlusion", form), { window: 6, stride: 3 });
    assert.deepEqual(methodFields("gradcam_pp", form), { layer: "conv1" });
    assert.deepEqual(methodFields("gradcam", { ...form, camLayer: "" }), {}); // the API's default layer
    assert.deepEqual(methodFields("gradient", form), {});
  });

  it("runs the slow methods as jobs and names an option group for each method that has options", () => {
    assert.deepEqual([...LONG_METHODS].sort(), ["integrated_gradients", "occlusion", "smoothgrad"]);
    for (const m of LONG_METHODS) assert.ok(METHOD_OPTIONS[m].length > 0);
    assert.equal(METHOD_OPTIONS.gradient, undefined);
  });
});

describe("explain: a layer's channels as tiles", () => {
  it("lays C maps of h×w on a near-square grid, each unit scale×scale pixels, with one-pixel gaps", () => {
    const layout = tileLayout([5, 2, 4]); // 3 columns, 2 rows; scale 40 / 4 = 10
    assert.equal(layout.scale, 10);
    assert.equal(layout.width, 3 * 41 - 1);
    assert.equal(layout.height, 2 * 21 - 1);
    assert.deepEqual(layout.tiles.map((t) => [t.x, t.y]), [[0, 0], [41, 0], [82, 0], [0, 21], [41, 21]]);
    assert.equal(tileLayout([1, 64, 64]).scale, 1); // large maps stay one pixel per unit
  });

  it("wraps a vector into rows of at most 32", () => {
    assert.deepEqual(tileLayout([10]), { width: 320, height: 32, scale: 32,
      tiles: [{ x: 0, y: 0, h: 1, w: 10, vector: true }] });
    const long = tileLayout([70]);
    assert.equal(long.scale, 10);
    assert.equal(long.width, 320);
    assert.equal(long.height, 30);
  });
});

describe("explain: knock-out summary", () => {
  const layers = [
    { name: "conv2", shape: [16, 10, 10], changed: 100, max_abs_difference: 2 },
    { name: "pool2", shape: [16, 5, 5], changed: 20, max_abs_difference: 1.5 },
    { name: "fc3", shape: [10], changed: 10, max_abs_difference: 0.5 },
  ];

  it("counts each layer's units and keeps its changes", () => {
    assert.deepEqual(knockoutRows(layers), [
      { name: "conv2", changed: 100, total: 1600, maxAbs: 2 },
      { name: "pool2", changed: 20, total: 400, maxAbs: 1.5 },
      { name: "fc3", changed: 10, total: 10, maxAbs: 0.5 },
    ]);
  });

  it("shows the deepest later map by default, else the last layer", () => {
    assert.equal(defaultDifferenceLayer(layers), "pool2");
    assert.equal(defaultDifferenceLayer([layers[1], layers[2]]), "fc3"); // pool2 is the knocked-out layer itself
    assert.equal(defaultDifferenceLayer([layers[2]]), "fc3");
  });
});

describe("explain: histogram", () => {
  it("scales bars to the tallest and places a value between the edges", () => {
    const bars = histogramBars([1, 4, 2, 0], 40, 20);
    assert.deepEqual(bars.map((b) => b.h), [5, 20, 10, 0]);
    assert.deepEqual(bars.map((b) => b.x), [0, 10, 20, 30]);
    assert.equal(histogramX(2.5, [0, 5, 10], 100), 25);
    assert.equal(histogramX(-3, [0, 10], 100), 0);
    assert.equal(histogramX(30, [0, 10], 100), 100);
    assert.equal(histogramX(1, [2, 2], 100), 50); // a degenerate range: the middle
  });
});

describe("explain: unit indices and links", () => {
  it("reads c, y, x or i, and refuses anything else", () => {
    assert.deepEqual(parseIndex("3, 4,5"), [3, 4, 5]);
    assert.deepEqual(parseIndex(" 7 "), [7]);
    assert.equal(parseIndex(""), null);
    assert.equal(parseIndex("1, -2"), null);
    assert.equal(parseIndex("1,2,3,4"), null);
    assert.equal(parseIndex("a"), null);
  });

  it("links to the explain page with the model, layer and unit escaped as query parameters", () => {
    assert.equal(explainHref("lenet"), "/explain?model=lenet");
    assert.equal(explainHref("my net&x", "layer1.0/add", [3, 4, 5]),
      "/explain?model=my+net%26x&layer=layer1.0%2Fadd&unit=3%2C4%2C5");
  });
});

describe("explain: comparing two models", () => {
  it("offers the other models with the same input shape only", () => {
    const m = (name, shape) => ({ name, input: { shape } });
    const models = [m("lenet", [1, 28, 28]), m("lenet5", [1, 28, 28]), m("shapes", [3, 32, 32]), m("res", [1, 28, 28])];
    assert.deepEqual(comparable(models, models[0]).map((x) => x.name), ["lenet5", "res"]);
    assert.deepEqual(comparable(models, models[2]), []);
  });

  it("takes b − a element by element", () => {
    assert.deepEqual(Array.from(differences([1, -2, 0.5], [1.5, -2, -0.5])), [0.5, 0, -1]);
  });
});
