// Escaping for HTML: every server string, file name or number that goes into innerHTML passes through esc().
const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text (or any value, as its string) made safe for HTML element content and quoted attribute values. */
export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
