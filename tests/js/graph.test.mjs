import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { layout } from "../../static/js/graph/layout.js";
import { channelOrder, pageSize } from "../../static/js/graph/maps.js";
import { boxPercent } from "../../static/js/graph/marks.js";
import { ModelGraph, groupsOf } from "../../static/js/graph/model_graph.js";
import { fitSize, vectorGrid } from "../../static/js/graph/paint.js";

/** A stem, one residual block with a downsample branch (module paths as API v2 names them), and a head. */
function residual() {
  const layer = (name, inputs, shape = [4, 8, 8]) => ({ name, inputs, shape, op: "op" });
  const layers = [
    layer("input", [], [3, 8, 8]),
    layer("conv1", ["input"]),
    layer("layer1.0.conv1", ["conv1"]),
    layer("layer1.0.relu:1", ["layer1.0.conv1"]),
    layer("layer1.0.conv2", ["layer1.0.relu:1"]),
    layer("layer1.0.downsample.0", ["conv1"]),
    layer("layer1.0.downsample.1", ["layer1.0.downsample.0"]),
    layer("layer1.0/add", ["layer1.0.conv2", "layer1.0.downsample.1"]),
    layer("layer1.0.relu:2", ["layer1.0/add"]),
    layer("fc", ["layer1.0.relu:2"], [10]),
  ];
  const edges = layers.flatMap((l) => l.inputs.map((i) => [i, l.name]));
  return { layers, edges };
}

describe("module paths", () => {
  it("put a layer in every module its name passes through, a functional op in its own module", () => {
    assert.deepEqual(groupsOf("layer1.0.conv1"), ["layer1", "layer1.0"]);
    assert.deepEqual(groupsOf("layer1.0.relu:2"), ["layer1", "layer1.0"]);
    assert.deepEqual(groupsOf("layer1.0/add"), ["layer1", "layer1.0"]);
    assert.deepEqual(groupsOf("layer2.0.downsample.1"), ["layer2", "layer2.0", "layer2.0.downsample"]);
    assert.deepEqual(groupsOf("conv1"), []);
    assert.deepEqual(groupsOf("7"), []);
  });
});

describe("the visible graph", () => {
  const graph = new ModelGraph(residual());

  it("unfolded, is the model's own graph", () => {
    const all = graph.visible(new Set(graph.groups.keys()));
    assert.equal(all.nodes.length, 10);
    assert.deepEqual(all.edges.map(([a, b]) => [a.slice(2), b.slice(2)]), residual().edges);
    assert.equal(all.nodes.find((n) => n.name === "layer1.0/add").inputs, 2);
    assert.deepEqual(all.frames.map((f) => f.group).sort(), ["layer1", "layer1.0", "layer1.0.downsample"]);
  });

  it("folded, shows a module as one node carrying its output layer, with the edges around it", () => {
    const folded = graph.visible(new Set());
    assert.deepEqual(folded.nodes.map((n) => n.id), ["L:input", "L:conv1", "G:layer1", "L:fc"]);
    assert.equal(folded.nodes[2].layer, "layer1.0.relu:2");
    assert.equal(folded.nodes[2].size, 7);
    assert.deepEqual(folded.edges, [["L:input", "L:conv1"], ["L:conv1", "G:layer1"], ["G:layer1", "L:fc"]]);
  });

  it("with the block open and its branch folded, still shows the merge's two inputs", () => {
    const v = graph.visible(new Set(["layer1", "layer1.0"]));
    const into = v.edges.filter(([, b]) => b === "L:layer1.0/add").map(([a]) => a).sort();
    assert.deepEqual(into, ["G:layer1.0.downsample", "L:layer1.0.conv2"]);
    assert.equal(v.nodes.find((n) => n.id === "G:layer1.0.downsample").parent, "layer1.0");
    assert.equal(graph.owner("layer1.0.downsample.0", new Set(["layer1"])), "G:layer1.0");
  });

  it("unfolds whole levels while the node budget allows", () => {
    assert.deepEqual([...graph.defaultExpanded(40)].sort(), ["layer1", "layer1.0", "layer1.0.downsample"]);
    assert.deepEqual([...graph.defaultExpanded(4)], ["layer1"]); // one module inside: unfolding it costs nothing
    assert.deepEqual([...graph.defaultExpanded(3)], []);
    assert.deepEqual([...graph.reveal("layer1.0.downsample.1", new Set())].sort(),
      ["layer1", "layer1.0", "layer1.0.downsample"]);
  });
});

describe("layout (dagre)", () => {
  it("places the branches side by side, the merge below both, every edge with a polyline", () => {
    const graph = new ModelGraph(residual());
    const placed = layout(graph.visible(new Set(graph.groups.keys())));
    const at = (name) => placed.nodes.get(`L:${name}`);
    const [main, branch] = [at("layer1.0.conv2"), at("layer1.0.downsample.1")];
    assert.ok(Math.abs(main.x - branch.x) >= main.width, "side by side");
    assert.ok(at("layer1.0/add").y > Math.max(main.y, at("layer1.0.downsample.0").y));
    assert.ok(placed.edges.every((e) => e.points.length >= 2));
    const frame = placed.frames.get("C:layer1.0");
    for (const name of ["layer1.0.conv1", "layer1.0/add"]) {
      const n = at(name);
      assert.ok(Math.abs(n.x - frame.x) <= frame.width / 2 && Math.abs(n.y - frame.y) <= frame.height / 2, name);
    }
  });
});

describe("boxes, pages and sizes", () => {
  it("places a half-open box in percent of its map", () => {
    assert.deepEqual(boxPercent({ rows: [2, 6], cols: [0, 5] }, 8, 10), { left: 0, top: 25, width: 50, height: 50 });
  });

  it("orders channels by mean or max, largest first, ties by index", () => {
    const data = Float32Array.from([0, 0, 0, 9, /* c1 */ 2, 2, 2, 2, /* c2 */ 2, 2, 2, 2]);
    assert.deepEqual(channelOrder(data, 3, 4, "max"), [0, 1, 2]);
    assert.deepEqual(channelOrder(data, 3, 4, "mean"), [0, 1, 2].sort((a, b) => [2.25, 2, 2][b] - [2.25, 2, 2][a] || a - b));
    assert.deepEqual(channelOrder(Float32Array.from([1, 1, 5, 5]), 2, 2, "mean"), [1, 0]);
  });

  it("shows fewer large maps per screenful", () => {
    assert.ok(pageSize(112, 112) < pageSize(28, 28) && pageSize(28, 28) < pageSize(7, 7));
    assert.deepEqual(fitSize(24, 40, 96), { width: 96, height: 58 });
    const [rows, cols] = vectorGrid(1000);
    assert.ok(rows * cols >= 1000 && (rows - 1) * cols < 1000);
  });
});

describe("the keyboard cursor on a map", () => {
  it("moves within the map, stops at its edges and steps through the channels shown", async () => {
    const { moveCursor } = await import("../../static/js/graph/unit_keys.js");
    assert.deepEqual(moveCursor([4, 0, 0], "ArrowUp", [4, 9], 7, 5), [4, 0, 0]);
    assert.deepEqual(moveCursor([4, 6, 4], "ArrowDown", [4, 9], 7, 5), [4, 6, 4]);
    assert.deepEqual(moveCursor([4, 3, 2], "ArrowRight", [4, 9], 7, 5), [4, 3, 3]);
    assert.deepEqual(moveCursor([4, 3, 2], "PageDown", [4, 9], 7, 5), [9, 3, 2]);
    assert.deepEqual(moveCursor([9, 3, 2], "PageDown", [4, 9], 7, 5), [9, 3, 2]);
    assert.deepEqual(moveCursor([9, 3, 2], "PageUp", [4, 9], 7, 5), [4, 3, 2]);
  });
});
