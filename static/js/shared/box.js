// API v2's one coordinate convention: a unit is [c, y, x] (a cell of one map [y, x]); a box is
// {rows: [start, stop], cols: [start, stop]}, half-open and clipped to its map, so a[rows[0]:rows[1]] slices it.

/** The box's size as [rows, cols]. */
export function boxShape({ rows, cols }) {
  return [rows[1] - rows[0], cols[1] - cols[0]];
}

/** Whether cell [y, x] lies inside the box. */
export function inBox({ rows, cols }, [y, x]) {
  return y >= rows[0] && y < rows[1] && x >= cols[0] && x < cols[1];
}

/** Every cell [y, x] of the box, row by row. */
export function boxCells({ rows, cols }) {
  const cells = [];
  for (let y = rows[0]; y < rows[1]; y++) for (let x = cols[0]; x < cols[1]; x++) cells.push([y, x]);
  return cells;
}

/** The box moved by [dy, dx] (e.g. onto a zero-padded copy of its map). */
export function shiftBox({ rows, cols }, [dy, dx]) {
  return { rows: [rows[0] + dy, rows[1] + dy], cols: [cols[0] + dx, cols[1] + dx] };
}

/** For reading: "rows 3…5, columns 4…6" (the cells included, first and last). */
export function boxText({ rows, cols }) {
  const span = ([a, b]) => (b - a === 1 ? `${a}` : `${a}…${b - 1}`);
  return `${rows[1] - rows[0] === 1 ? "row" : "rows"} ${span(rows)}, `
    + `${cols[1] - cols[0] === 1 ? "column" : "columns"} ${span(cols)}`;
}

/** API v1's inclusive [x0, y0, x1, y1] as a v2 box (for pages still reading v1 answers). */
export function fromInclusive([x0, y0, x1, y1]) {
  return { rows: [y0, y1 + 1], cols: [x0, x1 + 1] };
}
