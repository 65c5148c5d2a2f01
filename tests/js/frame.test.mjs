import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { decodeU8, parseFrame } from "../../static/js/shared/frame.js";

/** A frame as the server writes it, with each layer's data given as raw bytes (already padded to 4). */
function frame(header, bytes) {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = 4 + json.length + ((4 - ((4 + json.length) % 4)) % 4);
  const buffer = new ArrayBuffer(start + bytes.length);
  new DataView(buffer).setUint32(0, json.length, true);
  new Uint8Array(buffer, 4).set(json);
  new Uint8Array(buffer, start).set(bytes);
  return buffer;
}

/** The server's quantiser (app/core/encoding.py quantise_u8), for one slice. */
function quantise(values) {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  return { codes: values.map((v) => Math.round((v - lo) * scale)), lo, hi };
}

describe("decodeU8", () => {
  it("maps each slice's codes back onto its own range, within half a step of the original", () => {
    const a = [-1.5, 0, 0.3, 2.25];
    const b = [0, 0, 7, 3];
    const qa = quantise(a);
    const qb = quantise(b);
    const out = decodeU8(Uint8Array.from([...qa.codes, ...qb.codes]), [qa.lo, qb.lo], [qa.hi, qb.hi]);
    assert.ok(out instanceof Float32Array);
    [...a, ...b].forEach((v, i) => {
      const [lo, hi] = i < 4 ? [qa.lo, qa.hi] : [qb.lo, qb.hi];
      assert.ok(Math.abs(out[i] - v) <= ((hi - lo) / 255 / 2) * (1 + 1e-6), `value ${i}: ${out[i]} vs ${v}`);
    });
    assert.equal(out[0], -1.5); // the ends of a range are exact
    assert.equal(out[3], 2.25);
    assert.equal(out[4], 0); // zeros at the bottom of a ReLU map stay zero
  });

  it("gives a constant map its value", () => {
    assert.deepEqual(Array.from(decodeU8(Uint8Array.from([0, 0, 0]), [0.5], [0.5])), [0.5, 0.5, 0.5]);
  });
});

describe("parseFrame with uint8 layers", () => {
  it("decodes 8-bit layers and keeps float32 layers as views; marks which are exact", () => {
    const header = { prediction: 3, layers: [
      { name: "u", values: { dtype: "uint8", offset: 0, length: 3, min: [-1], max: [1] } },
      { name: "f", values: { dtype: "float32", offset: 4, length: 1 } },
    ] };
    const bytes = new Uint8Array(8);
    bytes.set([0, 255, 51], 0); // padded to 4
    new DataView(bytes.buffer).setFloat32(4, 0.75, true);
    const parsed = parseFrame(frame(header, bytes));
    assert.equal(parsed.prediction, 3);
    assert.deepEqual(Array.from(parsed.layers[0].data).map((v) => Number(v.toFixed(4))), [-1, 1, -0.6]);
    assert.equal(parsed.layers[0].exact, false);
    assert.equal(parsed.layers[1].exact, true);
    assert.deepEqual(Array.from(parsed.layers[1].data), [0.75]);
  });
});
