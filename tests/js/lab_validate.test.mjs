import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { checkField, checkSettings } from "../../static/js/lab/validate.js";

const OK = { bias: "0", stride: "1", "padding-number": "1", slope: "0.1", "pool-size": "2", "pool-stride": "2" };
const MODES = { paddingMode: "valid", activation: "relu", poolType: "max" };

describe("the lab's form checks", () => {
  it("never changes a number: a stride of 4 is an error, not a 3", () => {
    const r = checkField("stride", "4");
    assert.equal(r.value, undefined);
    assert.equal(r.error, "Stride must be a whole number from 1 to 3 (you typed 4).");
    assert.deepEqual(checkField("stride", "2"), { value: 2 });
  });

  it("says so in words for fractions, blanks and text, without validation jargon", () => {
    assert.match(checkField("pool-size", "2.5").error, /^The pooling window must be a whole number from 1 to 5/);
    assert.match(checkField("pool-size", "9").error, /you typed 9/);
    assert.match(checkField("bias", "").error, /^Bias must be a number/);
    assert.match(checkField("slope", "abc").error, /slope must be a number from 0 to 1/);
    for (const id of ["stride", "pool-size"]) assert.doesNotMatch(checkField(id, "99").error, /Input should|pool\./);
  });

  it("checks only the fields that apply", () => {
    const bad = { ...OK, "padding-number": "9", slope: "7", "pool-size": "0" };
    const r = checkSettings(bad, { paddingMode: "same", activation: "relu", poolType: "none" });
    assert.deepEqual(r.errors, {});
    const all = checkSettings(bad, { paddingMode: "number", activation: "leaky_relu", poolType: "max" });
    assert.deepEqual(Object.keys(all.errors).sort(), ["padding-number", "pool-size", "slope"]);
    assert.deepEqual(checkSettings(OK, MODES).values, { bias: 0, stride: 1, "pool-size": 2, "pool-stride": 2 });
  });
});
