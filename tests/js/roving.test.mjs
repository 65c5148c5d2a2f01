import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { nextIndex } from "../../static/js/shared/roving.js";

describe("nextIndex", () => {
  it("moves one step with the arrows, clamped at both ends", () => {
    assert.equal(nextIndex("ArrowRight", 0, 3), 1);
    assert.equal(nextIndex("ArrowDown", 2, 3), 2);
    assert.equal(nextIndex("ArrowLeft", 0, 3), 0);
    assert.equal(nextIndex("ArrowUp", 2, 3), 1);
  });

  it("jumps with Home and End and ignores other keys", () => {
    assert.equal(nextIndex("Home", 2, 5), 0);
    assert.equal(nextIndex("End", 0, 5), 4);
    assert.equal(nextIndex("Tab", 1, 5), null);
    assert.equal(nextIndex("a", 1, 5), null);
  });
});
