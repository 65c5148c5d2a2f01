// Layout of the visible graph by dagre (vendored from npm, static/vendor/dagre): top to bottom, branches side by
// side, unfolded modules as frames around their parts. Pure: positions only, no DOM.
import dagre from "../../vendor/dagre/dagre.esm.js";

export const NODE = { width: 184, height: 62 };

/** Positions of nodes ({x, y} centre, width, height), frames and edge polylines for visible(). */
export function layout({ nodes, frames, edges }) {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 26, edgesep: 10, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const f of frames) g.setNode(f.id, { paddingTop: 18 });
  for (const f of frames) if (f.parent) g.setParent(f.id, `C:${f.parent}`);
  for (const n of nodes) {
    g.setNode(n.id, { width: NODE.width, height: NODE.height });
    if (n.parent) g.setParent(n.id, `C:${n.parent}`);
  }
  for (const [u, v] of edges) g.setEdge(u, v);
  dagre.layout(g);
  const box = (id) => {
    const n = g.node(id);
    return { id, x: n.x, y: n.y, width: n.width, height: n.height };
  };
  const size = g.graph();
  return {
    width: size.width,
    height: size.height,
    nodes: new Map(nodes.map((n) => [n.id, box(n.id)])),
    frames: new Map(frames.map((f) => [f.id, box(f.id)])),
    edges: edges.map(([u, v]) => ({ from: u, to: v, points: g.edge(u, v).points })),
  };
}
