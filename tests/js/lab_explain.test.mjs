import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  boxMarks, cellMarks, convTaps, explainConv, explainPool, paddingMarks,
} from "../../static/js/lab/explain.js";
import { CHAIN, CHAIN_AVG, COLOUR } from "./lab_v2_result.mjs";

const attr = (html, role) => html.match(new RegExp(`data-role="${role}" data-value="([^"]*)"`))[1];
const attrs = (html, role) => [...html.matchAll(new RegExp(`data-role="${role}" data-value="([^"]*)"`, "g"))]
  .map((m) => Number(m[1]));

describe("marks", () => {
  it("cover a half-open box {rows, cols} and mark the winner [y, x]", () => {
    assert.deepEqual(boxMarks({ rows: [0, 2], cols: [1, 3] }, [1, 2]), {
      "0,1": "in-window", "0,2": "in-window", "1,1": "in-window", "1,2": "winner" });
  });

  it("shift onto a padded map", () => {
    assert.deepEqual(boxMarks({ rows: [0, 1], cols: [0, 1] }, null, 2), { "2,2": "in-window" });
    assert.deepEqual(cellMarks([[0, 0], [2, 2]]), { "0,0": "in-window", "2,2": "in-window" });
  });

  it("shade the padding ring of a padded input", () => {
    const marks = paddingMarks([4, 4], 1);
    assert.equal(Object.keys(marks).length, 12); // 16 cells − the 2×2 inside
    assert.equal(marks["0,0"], "pad");
    assert.equal(marks["1,1"], undefined);
    assert.deepEqual(paddingMarks([3, 3], 0), {});
  });
});

describe("explainConv", () => {
  it("adds up the products and the bias to the server's feature-map value", () => {
    for (const [y, x] of [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]) {
      const { cells, html } = explainConv(CHAIN, y, x);
      assert.deepEqual(cells, [[y, x], [y, x + 1], [y + 1, x], [y + 1, x + 1]]);
      assert.equal(Number(attr(html, "sum")), CHAIN.feature_map[y][x]);
      assert.equal(Number(attr(html, "value")), CHAIN.feature_map[y][x]);
    }
  });

  it("lists each product of a small kernel, negative numbers in brackets", () => {
    const { html } = explainConv(CHAIN, 2, 2); // padded cells (2,2)=2, (3,3)=0
    assert.match(html, /2×1 \+ 1×0 \+ 1×0 \+ 0×\(-1\)/);
    assert.match(html, /\+ bias 0\.50/);
  });

  it("sums every input channel of a colour input, plus the bias", () => {
    const { html } = explainConv(COLOUR, 1, 1);
    const sums = attrs(html, "channel-sum");
    assert.equal(sums.length, 3);
    sums.forEach((s, c) => assert.equal(s, COLOUR.per_channel[c][1][1]));
    assert.equal(Number(attr(html, "sum")), sums.reduce((a, b) => a + b) + COLOUR.bias);
    assert.equal(Number(attr(html, "sum")), COLOUR.feature_map[1][1]);
  });

  it("places a dilated, strided kernel's taps D apart from y·S", () => {
    const taps = convTaps({ kernel: [[[0, 0, 0], [0, 0, 0], [0, 0, 0]]], stride: 2, dilation: 2 }, 1, 0);
    assert.deepEqual(taps.rows, [2, 4, 6]);
    assert.deepEqual(taps.cols, [0, 2, 4]);
  });
});

describe("explainPool", () => {
  it("names the window as rows/cols, the winner as [y, x] and the value", () => {
    const { box, winner, html } = explainPool(CHAIN, 1, 1);
    assert.deepEqual(box, { rows: [2, 4], cols: [2, 4] });
    assert.deepEqual(winner, [2, 2]);
    assert.equal(CHAIN.activated[winner[0]][winner[1]], CHAIN.pooled.values[1][1]);
    assert.equal(Number(attr(html, "value")), 2.5);
    assert.match(html, /rows 2…3, columns 2…3/);
  });

  it("says when a partial window past the edge is kept (ceil mode)", () => {
    const { box, html } = explainPool(CHAIN, 2, 2);
    assert.deepEqual(box, { rows: [4, 5], cols: [4, 5] });
    assert.match(html, /partial window: 3 of its 2×2 cells/);
    assert.match(html, /ceil mode keeps it/);
  });

  it("states what an average divides by, and the division gives the value", () => {
    for (const [y, x] of [[0, 0], [1, 1], [2, 2]]) {
      const { box, html } = explainPool(CHAIN_AVG, y, x);
      const i = y * CHAIN_AVG.pooled.shape[1] + x;
      const cells = [];
      for (let r = box.rows[0]; r < box.rows[1]; r++) for (let c = box.cols[0]; c < box.cols[1]; c++) cells.push(CHAIN_AVG.activated[r][c]);
      const divisor = CHAIN_AVG.pooled.divisors[i];
      assert.equal(divisor, cells.length); // "covered": the cells of the map the window covers
      assert.ok(Math.abs(cells.reduce((a, b) => a + b) / divisor - CHAIN_AVG.pooled.values[y][x]) < 1e-12);
      assert.match(html, new RegExp(`divided by the ${divisor} cells of the map it covers`));
    }
  });
});
