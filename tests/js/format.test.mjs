import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { compact, fixed, percent, rangeEnd } from "../../static/js/shared/format.js";

describe("fixed", () => {
  it("prints d decimals (3 by default)", () => {
    assert.equal(fixed(1.23456), "1.235");
    assert.equal(fixed(1.23456, 2), "1.23");
    assert.equal(fixed(-0.5, 4), "-0.5000");
    assert.equal(fixed("2", 1), "2.0");
  });

  it("prints a missing value as a middle dot", () => {
    assert.equal(fixed(null), "·");
    assert.equal(fixed(undefined, 2), "·");
  });
});

describe("compact", () => {
  it("prints integers as they are", () => {
    assert.equal(compact(3), "3");
    assert.equal(compact(-12), "-12");
  });

  it("prints 1 decimal from 10 up and 2 below", () => {
    assert.equal(compact(-12.345), "-12.3");
    assert.equal(compact(0.1234), "0.12");
    assert.equal(compact(9.999), "10.00");
  });
});

describe("rangeEnd", () => {
  it("uses whole numbers from 100, 2 decimals from 1 and 2 significant digits below", () => {
    assert.equal(rangeEnd(123.4), "123");
    assert.equal(rangeEnd(1.234), "1.23");
    assert.equal(rangeEnd(0.01234), "0.012");
    assert.equal(rangeEnd(1), "1.00");
  });
});

describe("percent", () => {
  it("prints a probability as a percentage", () => {
    assert.equal(percent(0.1234), "12.3%");
    assert.equal(percent(1, 0), "100%");
    assert.equal(percent(0.005, 2), "0.50%");
  });
});
