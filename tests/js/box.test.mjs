import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { boxCells, boxShape, boxText, fromInclusive, inBox, shiftBox } from "../../static/js/shared/box.js";

describe("v2 boxes", () => {
  const box = { rows: [3, 5], cols: [4, 7] };

  it("are half-open: rows 3 and 4, columns 4, 5 and 6", () => {
    assert.deepEqual(boxShape(box), [2, 3]);
    assert.equal(boxCells(box).length, 6);
    assert.deepEqual(boxCells(box)[0], [3, 4]);
    assert.deepEqual(boxCells(box).at(-1), [4, 6]);
    assert.equal(inBox(box, [4, 6]), true);
    assert.equal(inBox(box, [5, 6]), false);
    assert.equal(inBox(box, [4, 7]), false);
  });

  it("read as the cells they include", () => {
    assert.equal(boxText(box), "rows 3…4, columns 4…6");
    assert.equal(boxText({ rows: [0, 1], cols: [2, 3] }), "row 0, column 2");
  });

  it("convert from v1's inclusive [x0, y0, x1, y1] and shift onto padded maps", () => {
    assert.deepEqual(fromInclusive([4, 3, 6, 4]), box);
    assert.deepEqual(shiftBox(box, [1, 1]), { rows: [4, 6], cols: [5, 8] });
  });
});
