// Indexing and receptive-field arithmetic from the geometry the API publishes (size, jump, start w.r.t. the input).

/** True for (C, H, W) map layers, false for vectors. */
export const isSpatial = (layer) => layer.shape.length === 3;

/** Row-major position of a unit (one coordinate per axis of shape), e.g. (c, y, x) → (c·H + y)·W + x. */
export function flatIndex(shape, unit) {
  let i = 0;
  for (let k = 0; k < shape.length; k++) i = i * shape[k] + unit[k];
  return i;
}

/** The unit at row-major position i of shape: the inverse of flatIndex. */
export function unravel(shape, i) {
  const unit = new Array(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    unit[k] = i % shape[k];
    i = Math.floor(i / shape[k]);
  }
  return unit;
}

/** The one-cell box [x0, y0, x1, y1] of a (c, y, x) unit. */
export function cellBox(unit) {
  return [unit[2], unit[1], unit[2], unit[1]];
}

/** Resolve a flatten unit to the (c, y, x) cell of the map before it; other units are returned as they are. */
export function anchor(layers, index, unit) {
  const layer = layers[index];
  if (layer.kind === "flatten" && layer.receptive_field.unflatten) {
    return { index: index - 1, unit: unravel(layer.receptive_field.unflatten, unit[0]) };
  }
  return { index, unit };
}

/** Geometry of layer dst in the coordinates of layer src (both spatial), derived from their input geometries. */
function relative(src, dst) {
  const a = src.receptive_field;
  const b = dst.receptive_field;
  return { size: (b.size - a.size) / a.jump + 1, jump: b.jump / a.jump, start: (b.start - a.start) / a.jump };
}

/** Inclusive [lo, hi] that unit i covers along one axis, clipped to 0…limit − 1. */
function span(geo, i, limit) {
  const lo = geo.start + i * geo.jump;
  return [Math.max(lo, 0), Math.min(lo + geo.size - 1, limit - 1)];
}

/** Box [x0, y0, x1, y1] that a (c, y, x) unit with geometry geo covers on an h × w map, clipped to it. */
export function box(geo, unit, h, w) {
  const [x0, x1] = span(geo, unit[2], w);
  const [y0, y1] = span(geo, unit[1], h);
  return [x0, y0, x1, y1];
}

/** Whether no layer after src up to dst mixes channels (the input, as the source, never counts). */
export function channelwisePath(layers, src, dst) {
  for (let k = src + 1; k <= dst; k++) if (!layers[k].channelwise) return false;
  return true;
}

/**
 * The unit's receptive field in every earlier layer, nearest first:
 * [{layer, index, box: [x0, y0, x1, y1] | null, channels: [c] | null (all)}].
 */
export function regions(layers, index, unit) {
  const out = [];
  const a = anchor(layers, index, unit);
  if (a.index !== index) {
    out.push({ layer: layers[a.index].name, index: a.index, box: cellBox(a.unit), channels: [a.unit[0]] });
  }
  const dst = layers[a.index];
  for (let k = a.index - 1; k >= 0; k--) {
    const src = layers[k];
    const keep = channelwisePath(layers, k, a.index);
    if (!isSpatial(src)) {
      out.push({ layer: src.name, index: k, box: null, channels: keep ? [a.unit[0]] : null });
      continue;
    }
    const [, h, w] = src.shape;
    const full = [0, 0, w - 1, h - 1];
    const seen = isSpatial(dst) && dst.receptive_field.jump > 0 ? box(relative(src, dst), a.unit, h, w) : full;
    out.push({ layer: src.name, index: k, box: seen, channels: keep && a.unit.length === 3 ? [a.unit[0]] : null });
  }
  return out;
}
