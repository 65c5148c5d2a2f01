// Any model as a graph of visible nodes: layers grouped into modules by their names (module paths, as API v2
// names them: `layer1.0.conv1`, `layer1.0/add`, `layer1.0.relu:2`), each module folded into one node or unfolded
// into a frame around its parts. Pure: no DOM, tested under node.

/** The module paths a layer sits in, outermost first: layer1.0.conv1 → [layer1, layer1.0]; layer1.0/add → the same. */
export function groupsOf(name) {
  const slash = name.indexOf("/");
  const base = slash >= 0 ? name.slice(0, slash) : name;
  const parts = base.split(".");
  const depth = slash >= 0 ? parts.length : parts.length - 1; // a functional op belongs to its module itself
  const out = [];
  for (let k = 1; k <= depth; k++) out.push(parts.slice(0, k).join("."));
  return out;
}

export class ModelGraph {
  /** model: GET /api/v2/model; modules with a single layer are not worth a fold and are left out. */
  constructor(model) {
    this.layers = model.layers;
    this.byName = new Map(model.layers.map((l) => [l.name, l]));
    this.edges = model.edges;
    const members = new Map();
    for (const l of model.layers) for (const g of groupsOf(l.name)) {
      if (!members.has(g)) members.set(g, []);
      members.get(g).push(l.name);
    }
    this.groups = new Map([...members].filter(([, names]) => names.length > 1));
    this.path = new Map(model.layers.map((l) => [l.name, groupsOf(l.name).filter((g) => this.groups.has(g))]));
    this.outputs = new Map([...this.groups.keys()].map((g) => [g, this._output(g)]));
  }

  /** The layer a folded module shows: the last one whose value leaves the module (else its last). */
  _output(group) {
    const names = this.groups.get(group);
    const inside = new Set(names);
    const leaving = names.filter((n) => this.edges.some(([a, b]) => a === n && !inside.has(b)));
    return (leaving.length ? leaving : names)[(leaving.length ? leaving : names).length - 1];
  }

  /** Module paths by depth (1 = outermost). */
  depth(group) { return group.split(".").length; }

  /** The modules to unfold at first: whole levels, outermost first, while the graph stays within budget nodes. */
  defaultExpanded(budget = 40) {
    const expanded = new Set();
    const maxDepth = Math.max(0, ...[...this.groups.keys()].map((g) => this.depth(g)));
    for (let d = 1; d <= maxDepth; d++) {
      const next = new Set([...expanded, ...[...this.groups.keys()].filter((g) => this.depth(g) === d)]);
      if (this.visible(next).nodes.length > budget) break;
      for (const g of next) expanded.add(g);
    }
    return expanded;
  }

  /** The visible node a layer belongs to: its outermost folded module, or the layer itself. */
  owner(name, expanded) {
    for (const g of this.path.get(name)) if (!expanded.has(g)) return `G:${g}`;
    return `L:${name}`;
  }

  /** The innermost unfolded module around a visible node (null at top level). */
  _parent(path, expanded) {
    let parent = null;
    for (const g of path) {
      if (!expanded.has(g)) break;
      parent = g;
    }
    return parent;
  }

  /** Nodes (layers and folded modules), frames (unfolded modules) and edges between visible nodes. */
  visible(expanded) {
    const nodes = new Map();
    const frames = new Map();
    for (const l of this.layers) {
      const id = this.owner(l.name, expanded);
      const path = this.path.get(l.name);
      if (id.startsWith("G:")) {
        const g = id.slice(2);
        const outer = path.slice(0, path.indexOf(g));
        if (!nodes.has(id)) nodes.set(id, this._groupNode(g, this._parent(outer, expanded)));
      } else {
        nodes.set(id, { id, kind: "layer", name: l.name, layer: l.name, parent: this._parent(path, expanded),
          inputs: l.inputs.length });
      }
      for (const g of path) {
        if (!expanded.has(g)) break;
        if (!frames.has(g)) frames.set(g, { id: `C:${g}`, group: g, parent: this._parent(this._outer(g), expanded) });
      }
    }
    const seen = new Set();
    const edges = [];
    for (const [a, b] of this.edges) {
      const [u, v] = [this.owner(a, expanded), this.owner(b, expanded)];
      const key = `${u}\u0000${v}`;
      if (u === v || seen.has(key)) continue;
      seen.add(key);
      edges.push([u, v]);
    }
    return { nodes: [...nodes.values()], frames: [...frames.values()], edges };
  }

  /** The modules around a module, outermost first. */
  _outer(group) {
    return groupsOf(group).filter((p) => this.groups.has(p));
  }

  _groupNode(g, parent) {
    return { id: `G:${g}`, kind: "group", name: g, layer: this.outputs.get(g), parent, size: this.groups.get(g).length };
  }

  /** Every module that holds the layer (to unfold so the layer itself shows). */
  reveal(name, expanded) {
    const out = new Set(expanded);
    for (const g of this.path.get(name)) out.add(g);
    return out;
  }
}
