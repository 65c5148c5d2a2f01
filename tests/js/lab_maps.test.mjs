import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { PALETTE } from "../../static/js/shared/colors.js";
import { textOn } from "../../static/js/lab/maps.js";

describe("lab map cells' text", () => {
  it("is whichever of black and white contrasts more with the cell", () => {
    assert.equal(textOn(PALETTE.positive), "#000"); // white on this red is only 4.4:1
    assert.equal(textOn(PALETTE.negative), "#fff"); // 5.4:1, black only 3.9:1
    assert.equal(textOn(PALETTE.zero), "#000");
    assert.equal(textOn([0, 0, 0]), "#fff");
    assert.equal(textOn([40, 40, 40]), "#fff");
  });
});
