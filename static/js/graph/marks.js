// A receptive field's box drawn over a map, in percent of the map, exactly where API v2 says: rows and cols
// half-open and clipped, so a[rows[0]:rows[1], cols[0]:cols[1]] is the part marked.

/** Percent placement of a box on an H×W map: {left, top, width, height} (pure, tested). */
export function boxPercent(box, height, width) {
  return {
    left: (box.cols[0] / width) * 100,
    top: (box.rows[0] / height) * 100,
    width: ((box.cols[1] - box.cols[0]) / width) * 100,
    height: ((box.rows[1] - box.rows[0]) / height) * 100,
  };
}

/** Put (or remove, for no field or no box) the field's mark inside holder, over a map of this layer shape. */
export function markBox(holder, field, shape) {
  let mark = holder.querySelector(":scope > .gf");
  if (!field || !field.box || shape.length !== 3) {
    if (mark) mark.remove();
    return null;
  }
  if (!mark) {
    mark = document.createElement("i");
    mark.className = "gf";
    mark.dataset.testid = "field";
    holder.append(mark);
  }
  const p = boxPercent(field.box, shape[1], shape[2]);
  Object.assign(mark.style, { left: `${p.left}%`, top: `${p.top}%`, width: `${p.width}%`, height: `${p.height}%` });
  mark.dataset.rows = field.box.rows.join(",");
  mark.dataset.cols = field.box.cols.join(",");
  mark.classList.toggle("sparse", field.dense === false);
  return mark;
}
