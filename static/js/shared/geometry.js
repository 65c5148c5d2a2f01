// Receptive-field arithmetic from the geometry the API publishes (size, jump, start w.r.t. the input).
const MIXING = new Set(["conv", "linear", "flatten"]);

const spatial = (layer) => layer.shape.length === 3;

/** Resolve a flatten unit to the (c, y, x) cell of the map before it; other units are returned as they are. */
export function anchor(layers, index, unit) {
  const layer = layers[index];
  if (layer.kind === "flatten" && layer.receptive_field.unflatten) {
    const [, h, w] = layer.receptive_field.unflatten;
    const i = unit[0];
    return { index: index - 1, unit: [Math.floor(i / (h * w)), Math.floor((i % (h * w)) / w), i % w] };
  }
  return { index, unit };
}

/** Geometry of layer dst in the coordinates of layer src (both spatial), derived from their input geometries. */
export function relative(src, dst) {
  const a = src.receptive_field;
  const b = dst.receptive_field;
  return { size: (b.size - a.size) / a.jump + 1, jump: b.jump / a.jump, start: (b.start - a.start) / a.jump };
}

function span(geo, i, limit) {
  const lo = geo.start + i * geo.jump;
  return [Math.max(lo, 0), Math.min(lo + geo.size - 1, limit - 1)];
}

/** Whether anything between src (exclusive) and dst mixes channels. */
function channelwise(layers, src, dst) {
  for (let k = src + 1; k <= dst; k++) if (MIXING.has(layers[k].kind)) return false;
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
    const [c, y, x] = a.unit;
    out.push({ layer: layers[a.index].name, index: a.index, box: [x, y, x, y], channels: [c] });
  }
  const dst = layers[a.index];
  for (let k = a.index - 1; k >= 0; k--) {
    const src = layers[k];
    const keep = channelwise(layers, k, a.index);
    if (!spatial(src)) {
      out.push({ layer: src.name, index: k, box: null, channels: keep ? [a.unit[0]] : null });
      continue;
    }
    const [, h, w] = src.shape;
    let box = [0, 0, w - 1, h - 1];
    if (spatial(dst) && dst.receptive_field.jump > 0) {
      const geo = relative(src, dst);
      const [x0, x1] = span(geo, a.unit[2], w);
      const [y0, y1] = span(geo, a.unit[1], h);
      box = [x0, y0, x1, y1];
    }
    out.push({ layer: src.name, index: k, box, channels: keep && a.unit.length === 3 ? [a.unit[0]] : null });
  }
  return out;
}
