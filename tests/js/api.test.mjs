import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseFrame } from "../../static/js/shared/api.js";

/** A frame as the server writes it: uint32 LE header length, JSON header, zero padding to 4 bytes, float32 data. */
function frame(header, floats) {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = 4 + json.length + ((4 - ((4 + json.length) % 4)) % 4);
  const buffer = new ArrayBuffer(start + floats.length * 4);
  new DataView(buffer).setUint32(0, json.length, true);
  new Uint8Array(buffer, 4).set(json);
  new Float32Array(buffer, start).set(floats);
  return buffer;
}

describe("parseFrame", () => {
  it("gives each layer a Float32Array view of its values, whatever the header's padding", () => {
    for (const name of ["a", "ab", "abc", "abcd"]) { // header lengths that need 0…3 bytes of padding
      const header = { prediction: 7, layers: [
        { name, values: { offset: 0, length: 2 } },
        { name: "b", values: { offset: 8, length: 3 } },
      ] };
      const parsed = parseFrame(frame(header, [1.5, -2, 0.25, 3, -4]));
      assert.equal(parsed.prediction, 7);
      assert.ok(parsed.layers[0].data instanceof Float32Array);
      assert.deepEqual(Array.from(parsed.layers[0].data), [1.5, -2]);
      assert.deepEqual(Array.from(parsed.layers[1].data), [0.25, 3, -4]);
    }
  });

  it("does not copy the values: the views share the frame's buffer", () => {
    const buffer = frame({ layers: [{ name: "x", values: { offset: 4, length: 1 } }] }, [0, 42]);
    const parsed = parseFrame(buffer);
    assert.equal(parsed.layers[0].data.buffer, buffer);
    assert.equal(parsed.layers[0].data[0], 42);
  });
});
