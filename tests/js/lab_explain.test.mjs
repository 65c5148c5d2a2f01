import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  explainConv, explainPool, flatHtml, outputSizeHtml, paddingMarks, poolCaption, windowMarks,
} from "../../static/js/lab/explain.js";
import { LAB_RESULT } from "./lab_result.mjs";

const attr = (html, role) => html.match(new RegExp(`data-role="${role}" data-value="([^"]*)"`))[1];

describe("marks", () => {
  it("cover a window [y0, x0, y1, x1] inclusively and mark the winner", () => {
    assert.deepEqual(windowMarks([0, 1, 1, 2], [1, 2]), { "0,1": "in-window", "0,2": "in-window", "1,1": "in-window",
      "1,2": "winner" });
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
      const { window, html } = explainConv(LAB_RESULT, y, x);
      assert.deepEqual(window, [y, x, y + 1, x + 1]);
      assert.equal(Number(attr(html, "sum")), LAB_RESULT.feature_map.values[y][x]);
      assert.equal(Number(attr(html, "value")), LAB_RESULT.feature_map.values[y][x]);
    }
  });

  it("lists each product of a small kernel", () => {
    const { html } = explainConv(LAB_RESULT, 2, 2); // padded cells (2,2)=2, (3,3)=0
    assert.match(html, /2×1 \+ 1×0 \+ 1×0 \+ 0×-1 \+ bias 0\.50/);
  });
});

describe("explainPool", () => {
  it("finds the window, its winner cell and the pooled value", () => {
    const { window, winner, html } = explainPool(LAB_RESULT, 1, 1);
    assert.deepEqual(window, [2, 2, 3, 3]);
    assert.deepEqual(winner, [2, 2]); // flat index 12 of the 5×5 activated map
    assert.equal(Number(attr(html, "value")), 2.5);
    assert.match(html, /max\(2\.50, 1\.50, 1\.50, 0\)/);
  });

  it("says when a window is cut off by the edge", () => {
    assert.match(explainPool(LAB_RESULT, 2, 2).html, /partial window/);
    assert.doesNotMatch(explainPool(LAB_RESULT, 0, 0).html, /partial window/);
  });

  it("escapes the pooling type", () => {
    const hostile = { ...LAB_RESULT, pooled: { ...LAB_RESULT.pooled, type: "<b>max</b>" } };
    assert.match(explainPool(hostile, 0, 0).html, /&lt;b&gt;max&lt;\/b&gt;/);
  });
});

describe("texts", () => {
  it("print the output-size formulas escaped, with the size", () => {
    const html = outputSizeHtml(LAB_RESULT.output_size);
    assert.match(html, /<b data-role="size">5×5<\/b>/);
    assert.match(outputSizeHtml({ rows: { formula: "<i>", value: 1 }, cols: { formula: "&", value: 2 } }),
      /rows: &lt;i&gt;<br>columns: &amp;/);
  });

  it("list the flattened values and say how many more there are", () => {
    assert.match(flatHtml(LAB_RESULT.flattened), /9 numbers from the pooled map/);
    const long = flatHtml({ values: Array.from({ length: 250 }, (_, i) => i), source: "pooled", order: "row" });
    assert.equal((long.match(/<li>/g) || []).length, 200);
    assert.match(long, /… 50 more/);
  });

  it("caption the pooled map", () => {
    assert.equal(poolCaption(LAB_RESULT.pooled), "max pooled 2×2, stride 2: 3×3");
  });
});
