// Image encoding for uploads: a greyscale BMP is built synchronously, byte by byte, with no canvas encoder.

/** An 8-bit greyscale, top-down BMP (BITMAPINFOHEADER and a grey palette) from RGBA image data. */
export function greyBmp({ width, height, data }) {
  const row = (width + 3) & ~3;
  const offset = 14 + 40 + 1024;
  const buf = new ArrayBuffer(offset + row * height);
  const v = new DataView(buf);
  const bytes = new Uint8Array(buf);
  bytes[0] = 0x42; // "B"
  bytes[1] = 0x4d; // "M"
  v.setUint32(2, buf.byteLength, true);
  v.setUint32(10, offset, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, -height, true); // negative: rows run top to bottom
  v.setUint16(26, 1, true);
  v.setUint16(28, 8, true);
  v.setUint32(34, row * height, true);
  v.setUint32(46, 256, true);
  for (let i = 0; i < 256; i++) bytes.set([i, i, i, 0], 54 + i * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      bytes[offset + y * row + x] = (data[p] * 299 + data[p + 1] * 587 + data[p + 2] * 114) / 1000;
    }
  }
  return new Blob([buf], { type: "image/bmp" });
}

/** Whether RGBA image data has any ink: a pixel darker than `threshold` (0…255) on the light pad. */
export function hasInk({ data }, threshold = 160) {
  for (let p = 0; p < data.length; p += 4) {
    if ((data[p] * 299 + data[p + 1] * 587 + data[p + 2] * 114) / 1000 < threshold) return true;
  }
  return false;
}
