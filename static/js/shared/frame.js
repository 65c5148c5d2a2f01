// The predict frame: uint32 LE header length, JSON header, padding to 4 bytes, then each layer's values —
// raw float32 (encoding=binary, exact) or 8-bit codes over each map's own range (encoding=u8, for display).

/** Float32 values of 8-bit codes: slice c of codes (one per min/max pair) is min[c] + code · (max[c] − min[c]) / 255. */
export function decodeU8(codes, min, max) {
  const out = new Float32Array(codes.length);
  const per = min.length ? codes.length / min.length : 0;
  for (let c = 0; c < min.length; c++) {
    const lo = min[c];
    const step = (max[c] - lo) / 255;
    for (let i = c * per; i < (c + 1) * per; i++) out[i] = lo + codes[i] * step;
  }
  return out;
}

/**
 * Parse a frame. Each layer gets `data`, a Float32Array: a view on the frame for float32 (no copy), decoded values
 * for uint8; `exact` says which (8-bit values are for drawing; the exact numbers come from /trace).
 */
export function parseFrame(buffer) {
  const n = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  const start = 4 + n + ((4 - ((4 + n) % 4)) % 4);
  for (const layer of header.layers) {
    const v = layer.values;
    layer.exact = v.dtype !== "uint8";
    layer.data = layer.exact ? new Float32Array(buffer, start + v.offset, v.length)
      : decodeU8(new Uint8Array(buffer, start + v.offset, v.length), v.min, v.max);
  }
  return header;
}
