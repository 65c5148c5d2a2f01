// A roving tab stop: a group of buttons is one stop for Tab; the arrow keys, Home and End move between them.

const STEPS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

/** The index focus moves to from i among n items for a key (null for keys that do not move it). */
export function nextIndex(key, i, n) {
  if (key === "Home") return 0;
  if (key === "End") return n - 1;
  if (!(key in STEPS)) return null;
  return Math.min(n - 1, Math.max(0, i + STEPS[key]));
}

/** Make the items matching selector inside container one tab stop; call again after the items change. */
export function roving(container, selector) {
  const items = () => Array.from(container.querySelectorAll(selector));
  const all = items();
  all.forEach((el, i) => { el.tabIndex = i === 0 ? 0 : -1; });
  if (container.dataset.roving) return;
  container.dataset.roving = "true";
  container.addEventListener("keydown", (e) => {
    const list = items();
    const i = list.indexOf(e.target);
    const j = i < 0 ? null : nextIndex(e.key, i, list.length);
    if (j === null) return;
    e.preventDefault();
    list[i].tabIndex = -1;
    list[j].tabIndex = 0;
    list[j].focus();
  });
  container.addEventListener("focusin", (e) => {
    const list = items();
    if (!list.includes(e.target)) return;
    for (const el of list) el.tabIndex = el === e.target ? 0 : -1;
  });
}
