import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { greyBmp, hasInk } from "../../static/js/shared/bmp.js";

/** RGBA image data of width × height from a list of [r, g, b] pixels. */
function imageData(width, height, pixels) {
  const data = new Uint8ClampedArray(width * height * 4);
  pixels.forEach(([r, g, b], i) => data.set([r, g, b, 255], i * 4));
  return { width, height, data };
}

describe("greyBmp", () => {
  it("writes an 8-bit, top-down BMP with a grey palette and rows padded to 4 bytes", async () => {
    const blob = greyBmp(imageData(3, 2, [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 10, 10]]));
    assert.equal(blob.type, "image/bmp");
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const v = new DataView(bytes.buffer);
    const offset = 14 + 40 + 1024;
    assert.equal(String.fromCharCode(bytes[0], bytes[1]), "BM");
    assert.equal(v.getUint32(2, true), bytes.length);
    assert.equal(bytes.length, offset + 4 * 2); // 3 pixels per row padded to 4 bytes
    assert.equal(v.getUint32(10, true), offset);
    assert.equal(v.getInt32(18, true), 3);
    assert.equal(v.getInt32(22, true), -2); // negative height: first row first
    assert.equal(v.getUint16(28, true), 8);
    assert.deepEqual(Array.from(bytes.slice(54 + 4 * 200, 54 + 4 * 201)), [200, 200, 200, 0]);
    // Luminance 0.299 R + 0.587 G + 0.114 B, truncated.
    assert.deepEqual(Array.from(bytes.slice(offset, offset + 3)), [0, 255, 76]);
    assert.deepEqual(Array.from(bytes.slice(offset + 4, offset + 7)), [149, 29, 10]);
  });
});

describe("hasInk", () => {
  it("is false for a blank or erased pad (white, or light anti-aliased remains) and true for any dark pixel", () => {
    assert.equal(hasInk(imageData(2, 2, [[255, 255, 255], [255, 255, 255], [250, 250, 250], [200, 200, 200]])), false);
    assert.equal(hasInk(imageData(2, 1, [[255, 255, 255], [17, 17, 17]])), true);
    assert.equal(hasInk(imageData(1, 1, [[120, 120, 120]])), true);
  });
});
