// Links between the pages: the explain page's address (model, layer, unit) built in one place.

/** The explain page's address for a model, with an optional layer and unit ([c, y, x] or [i]) whose card to open. */
export function explainHref(model, layer = null, index = null) {
  const q = new URLSearchParams({ model });
  if (layer) q.set("layer", layer);
  if (index) q.set("unit", index.join(","));
  return `/explain?${q.toString()}`;
}
