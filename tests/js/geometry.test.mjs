import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  anchor, box, cellBox, channelwisePath, flatIndex, isSpatial, regions, unravel,
} from "../../static/js/shared/geometry.js";
import { LENET_LAYERS, SERVER_REGIONS } from "./fixtures.mjs";

const indexOf = (name) => LENET_LAYERS.findIndex((l) => l.name === name);

describe("flatIndex and unravel", () => {
  it("map (c, y, x) to the row-major position the binary frame uses", () => {
    assert.equal(flatIndex([6, 28, 28], [0, 0, 0]), 0);
    assert.equal(flatIndex([6, 28, 28], [0, 0, 1]), 1);
    assert.equal(flatIndex([6, 28, 28], [0, 1, 0]), 28);
    assert.equal(flatIndex([6, 28, 28], [1, 0, 0]), 784);
    assert.equal(flatIndex([16, 5, 5], [15, 4, 4]), 399);
    assert.equal(flatIndex([16, 5, 5], [1, 0, 1]), 26);
  });

  it("treat a vector unit [i] as position i", () => {
    assert.equal(flatIndex([400], [123]), 123);
    assert.deepEqual(unravel([400], 123), [123]);
  });

  it("invert each other for every unit of several shapes", () => {
    for (const shape of [[1, 28, 28], [6, 14, 14], [16, 5, 5], [3, 4], [10]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      for (let i = 0; i < n; i++) {
        const unit = unravel(shape, i);
        assert.equal(unit.length, shape.length);
        unit.forEach((u, k) => assert.ok(u >= 0 && u < shape[k], `${u} out of ${shape}`));
        assert.equal(flatIndex(shape, unit), i);
      }
    }
  });

  it("unravel a 2-D window index (the lab's pooling winners) into (row, column)", () => {
    assert.deepEqual(unravel([3, 3], 5), [1, 2]);
    assert.deepEqual(unravel([3, 3], 7), [2, 1]);
  });
});

describe("boxes", () => {
  const conv2 = LENET_LAYERS[indexOf("conv2")].receptive_field; // size 14, jump 2, start −2

  it("cover start + i·jump … + size − 1 on each axis", () => {
    assert.deepEqual(box(conv2, [3, 4, 5], 28, 28), [8, 6, 21, 19]);
  });

  it("are clipped to the input at the top-left and bottom-right", () => {
    assert.deepEqual(box(conv2, [0, 0, 0], 28, 28), [0, 0, 11, 11]);
    assert.deepEqual(box(conv2, [15, 9, 9], 28, 28), [16, 16, 27, 27]);
  });

  it("of a single cell are that cell", () => {
    assert.deepEqual(cellBox([2, 7, 3]), [3, 7, 3, 7]);
    assert.deepEqual(box({ size: 1, jump: 1, start: 0 }, [0, 7, 3], 28, 28), [3, 7, 3, 7]);
  });
});

describe("anchor", () => {
  const flatten = indexOf("flatten");

  it("resolves a flatten unit to its (c, y, x) cell of the map before it", () => {
    assert.deepEqual(anchor(LENET_LAYERS, flatten, [0]), { index: flatten - 1, unit: [0, 0, 0] });
    assert.deepEqual(anchor(LENET_LAYERS, flatten, [26]), { index: flatten - 1, unit: [1, 0, 1] });
    assert.deepEqual(anchor(LENET_LAYERS, flatten, [399]), { index: flatten - 1, unit: [15, 4, 4] });
  });

  it("leaves other units alone", () => {
    assert.deepEqual(anchor(LENET_LAYERS, 4, [3, 4, 5]), { index: 4, unit: [3, 4, 5] });
    assert.deepEqual(anchor(LENET_LAYERS, indexOf("fc1"), [7]), { index: indexOf("fc1"), unit: [7] });
  });
});

describe("channelwisePath", () => {
  it("is true through activations and pooling only", () => {
    assert.equal(channelwisePath(LENET_LAYERS, indexOf("conv2"), indexOf("pool2")), true);
    assert.equal(channelwisePath(LENET_LAYERS, indexOf("conv1"), indexOf("pool1")), true);
  });

  it("is false once a conv, linear or flatten layer lies on the path", () => {
    assert.equal(channelwisePath(LENET_LAYERS, indexOf("pool1"), indexOf("relu2")), false);
    assert.equal(channelwisePath(LENET_LAYERS, indexOf("pool2"), indexOf("flatten")), false);
    assert.equal(channelwisePath(LENET_LAYERS, indexOf("relu3"), indexOf("fc2")), false);
  });

  it("reads each layer's channelwise flag, not its name or kind, and never counts the source", () => {
    const layers = [
      { name: "input", kind: "input", channelwise: false },
      { name: "a", kind: "mystery", channelwise: true },
      { name: "b", kind: "relu", channelwise: false },
    ];
    assert.equal(channelwisePath(layers, 0, 1), true);
    assert.equal(channelwisePath(layers, 0, 2), false);
    assert.equal(channelwisePath(layers, 1, 1), true);
  });
});

describe("regions", () => {
  const strip = (rs) => rs.map(({ layer, box: b, channels }) => ({ layer, box: b, channels }));

  for (const [key, expected] of Object.entries(SERVER_REGIONS)) {
    it(`match the server's receptive field for ${key}`, () => {
      const [name, unit] = key.split(" ");
      const got = regions(LENET_LAYERS, indexOf(name), unit.split(",").map(Number));
      assert.deepEqual(strip(got), expected);
    });
  }

  it("carry each region's layer index, nearest first", () => {
    const got = regions(LENET_LAYERS, indexOf("conv2"), [3, 4, 5]);
    assert.deepEqual(got.map((r) => r.index), [3, 2, 1, 0]);
  });

  it("are empty for an input pixel", () => {
    assert.deepEqual(regions(LENET_LAYERS, 0, [0, 5, 5]), []);
  });
});

describe("isSpatial", () => {
  it("tells maps from vectors", () => {
    assert.equal(isSpatial(LENET_LAYERS[indexOf("pool2")]), true);
    assert.equal(isSpatial(LENET_LAYERS[indexOf("flatten")]), false);
  });
});

describe("softmax is not elementwise", () => {
  it("a probability's field in the logits is every logit", () => {
    const i = LENET_LAYERS.findIndex((l) => l.name === "softmax");
    const fc3 = regions(LENET_LAYERS, i, [3]).find((r) => r.layer === "fc3");
    assert.equal(fc3.channels, null);
  });
});
