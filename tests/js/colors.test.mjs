import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { PALETTE, diverging, greyscale, legendSpec, maxAbs, rgbCss } from "../../static/js/shared/colors.js";

const WHITE = [255, 255, 255];

describe("diverging", () => {
  it("maps zero to white whatever the range", () => {
    for (const r of [0.001, 1, 250]) assert.deepEqual(diverging(0, r), WHITE);
  });

  it("maps +range to red and −range to blue", () => {
    assert.deepEqual(diverging(2, 2), PALETTE.positive);
    assert.deepEqual(diverging(-2, 2), PALETTE.negative);
    assert.deepEqual(PALETTE.positive, [214, 69, 40]);
    assert.deepEqual(PALETTE.negative, [49, 104, 196]);
  });

  it("shows the sign: positive values are redder than blue, negative ones bluer than red", () => {
    const [pr, , pb] = diverging(0.3, 1);
    const [nr, , nb] = diverging(-0.3, 1);
    assert.ok(pr > pb, `positive ${pr} vs ${pb}`);
    assert.ok(nb > nr, `negative ${nb} vs ${nr}`);
  });

  it("is symmetric: ±v lie the same fraction of the way from white to their end colour", () => {
    const t = 0.4;
    const pos = diverging(t, 1);
    const neg = diverging(-t, 1);
    for (let k = 0; k < 3; k++) {
      assert.ok(Math.abs(pos[k] - (255 + (PALETTE.positive[k] - 255) * t)) < 1e-9);
      assert.ok(Math.abs(neg[k] - (255 + (PALETTE.negative[k] - 255) * t)) < 1e-9);
    }
  });

  it("interpolates linearly: half the range is half way to the end colour", () => {
    assert.deepEqual(diverging(0.5, 1), [234.5, 162, 147.5]);
  });

  it("clamps values beyond the range to the end colours", () => {
    assert.deepEqual(diverging(50, 1), PALETTE.positive);
    assert.deepEqual(diverging(-50, 1), PALETTE.negative);
  });

  it("is white for an empty range (all zeros, or no range)", () => {
    assert.deepEqual(diverging(3, 0), WHITE);
    assert.deepEqual(diverging(3, NaN), WHITE);
  });
});

describe("greyscale", () => {
  it("shows the input as MNIST does: 0 black, 1 white, clamped", () => {
    assert.deepEqual(greyscale(0), [0, 0, 0]);
    assert.deepEqual(greyscale(1), [255, 255, 255]);
    assert.deepEqual(greyscale(0.5), [127.5, 127.5, 127.5]);
    assert.deepEqual(greyscale(-1), [0, 0, 0]);
    assert.deepEqual(greyscale(7), [255, 255, 255]);
  });
});

describe("maxAbs", () => {
  it("is the largest magnitude, negatives included", () => {
    assert.equal(maxAbs(Float32Array.from([0.5, -3, 2])), 3);
    assert.equal(maxAbs([]), 0);
  });

  it("looks only at [start, end) when given", () => {
    assert.equal(maxAbs([9, 1, -2, 9], 1, 3), 2);
  });
});

describe("rgbCss", () => {
  it("truncates channels and adds alpha when asked", () => {
    assert.equal(rgbCss([234.5, 162, 147.9]), "rgb(234,162,147)");
    assert.equal(rgbCss([1, 2, 3], 0.5), "rgba(1,2,3,0.5)");
  });
});

describe("legendSpec", () => {
  it("labels signed data with the symmetric range it is coloured with", () => {
    const spec = legendSpec("signed", 0.5);
    assert.equal(spec.low, "−0.50");
    assert.equal(spec.high, "+0.50");
    assert.equal(legendSpec("signed", 123.4).high, "+123");
    assert.equal(legendSpec("signed", 0.01234).low, "−0.012");
  });

  it("draws its bar blue → white → red, the colours diverging() paints", () => {
    const { gradient } = legendSpec("signed", 1);
    assert.equal(gradient,
      `linear-gradient(90deg, ${rgbCss(diverging(-1, 1))}, ${rgbCss(diverging(0, 1))}, ${rgbCss(diverging(1, 1))})`);
    assert.match(gradient, /rgb\(49,104,196\), rgb\(255,255,255\), rgb\(214,69,40\)/);
  });

  it("labels the input 0 to 1, black to white", () => {
    const spec = legendSpec("input", 1);
    assert.deepEqual([spec.low, spec.high], ["0", "1"]);
    assert.equal(spec.gradient, "linear-gradient(90deg, rgb(0,0,0), rgb(255,255,255))");
    assert.equal(spec.title, "pixel intensity");
  });
});
