// Number formatting shared by the panels, the legends and the lab.

/** x to d decimals; a missing value (null or undefined) as a middle dot. */
export function fixed(x, d = 3) {
  return x === null || x === undefined ? "·" : Number(x).toFixed(d);
}

/** Short form for small lab maps: integers as they are, otherwise 1 decimal from 10 up and 2 below. */
export function compact(v) {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** The end of a colour range for a legend: whole numbers from 100, 2 decimals from 1, 2 significant digits below. */
export function rangeEnd(x) {
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  return a >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

/** A probability in 0…1 as a percentage string with d decimals, e.g. percent(0.1234) → "12.3%". */
export function percent(p, d = 1) {
  return `${(p * 100).toFixed(d)}%`;
}
