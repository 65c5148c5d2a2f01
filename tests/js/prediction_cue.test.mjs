import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { percent } from "../../static/js/shared/format.js";
import { cueText } from "../../static/js/visualiser/prediction.js";

const base = { looks_like_digit: true, runner_up: null, score: 1, threshold: 0, temperature: 1.2 };

describe("cueText", () => {
  it("says nothing for a sure digit or a model without calibration", () => {
    assert.equal(cueText(base), "");
    assert.equal(cueText(null), "");
    assert.equal(cueText(undefined), "");
  });
  it("names the runner-up with its calibrated probability", () => {
    const text = cueText({ ...base, runner_up: { index: 4, probability: 0.27 } });
    assert.equal(text, `or 4? (${percent(0.27, 0)})`);
  });
  it("warns about a non-digit and still names the runner-up", () => {
    const text = cueText({ ...base, looks_like_digit: false, runner_up: { index: 7, probability: 0.1 } });
    assert.ok(text.startsWith("does not look like a digit · or 7?"));
  });
});
