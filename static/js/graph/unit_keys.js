// Keyboard on an opened node's maps (one tab stop): arrows move a cursor over the units of a map, Page Up / Page
// Down step through the channels shown, Enter or Space traces the unit under the cursor.
import { boxPercent } from "./marks.js";

const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

/** The cursor after a key: [c, y, x] within an H×W map, c stepping through the channels shown. */
export function moveCursor(cursor, key, channels, h, w) {
  const [c, y, x] = cursor;
  if (MOVES[key]) {
    const [dy, dx] = MOVES[key];
    return [c, Math.max(0, Math.min(h - 1, y + dy)), Math.max(0, Math.min(w - 1, x + dx))];
  }
  const i = channels.indexOf(c);
  if (key === "PageDown" && i < channels.length - 1) return [channels[i + 1], y, x];
  if (key === "PageUp" && i > 0) return [channels[i - 1], y, x];
  return cursor;
}

/** Wire the maps container: panel gives layer, onUnit and announce(text). */
export function wireUnitKeys(maps, panel, announce) {
  let cursor = null;
  const channels = () => Array.from(maps.querySelectorAll("canvas[data-channel]"), (c) => Number(c.dataset.channel));
  const show = () => {
    for (const el of maps.querySelectorAll(".gc")) el.remove();
    if (!cursor) return;
    const canvas = maps.querySelector(`canvas[data-channel="${cursor[0]}"]`);
    if (!canvas) return;
    const [, h, w] = panel.layer.shape;
    const p = boxPercent({ rows: [cursor[1], cursor[1] + 1], cols: [cursor[2], cursor[2] + 1] }, h, w);
    const mark = document.createElement("i");
    mark.className = "gc";
    Object.assign(mark.style, { left: `${p.left}%`, top: `${p.top}%`, width: `${p.width}%`, height: `${p.height}%` });
    canvas.parentElement.append(mark);
    canvas.scrollIntoView({ block: "nearest" });
    announce(`${panel.layer.name} channel ${cursor[0]}, row ${cursor[1]}, column ${cursor[2]}`);
  };
  maps.addEventListener("focus", () => {
    if (!panel.layer || panel.layer.shape.length !== 3 || !channels().length) return;
    if (!cursor || !channels().includes(cursor[0])) cursor = [channels()[0], 0, 0];
    show();
  });
  maps.addEventListener("click", () => {
    if (panel.clicked) cursor = panel.clicked; // the keyboard continues from the unit clicked
    show();
  });
  maps.addEventListener("blur", () => { for (const el of maps.querySelectorAll(".gc")) el.remove(); });
  maps.addEventListener("keydown", (e) => {
    if (!cursor || !panel.layer || panel.layer.shape.length !== 3) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      panel.onUnit(panel.layer.name, cursor);
      return;
    }
    const [, h, w] = panel.layer.shape;
    const next = moveCursor(cursor, e.key, channels(), h, w);
    if (next === cursor) return;
    e.preventDefault();
    cursor = next;
    show();
  });
}
