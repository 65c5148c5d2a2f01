import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { FIELD_IDS, checkField, checkKernelCell, checkLive, checkSettings, requestBody } from "../../static/js/lab/validate.js";

const OK = {
  bias: "0", stride: "1", "padding-number": "1", dilation: "1", slope: "0.1", "pool-size": "2", "pool-stride": "2",
  "pool-padding": "0", "dropout-p": "0.5", "dropout-seed": "0", "padding-mode": "valid", activation: "relu",
  "pool-type": "max", "pool-mode": "floor", "pool-divisor": "covered",
};

describe("the lab's form checks", () => {
  it("covers every field of the form", () => {
    assert.deepEqual([...FIELD_IDS].sort(), Object.keys(OK).sort());
  });

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

  it("uses the server's limits for the new fields: dilation, pool padding, dropout p and seed", () => {
    assert.equal(checkField("dilation", "4").error, "Dilation must be a whole number from 1 to 3 (you typed 4).");
    assert.deepEqual(checkField("dilation", "3"), { value: 3 });
    assert.match(checkField("pool-padding", "3").error, /^The pooling padding must be a whole number from 0 to 2/);
    assert.equal(checkField("dropout-p", "0.95").error, "Dropout p must be a number from 0 to 0.9 (you typed 0.95).");
    assert.deepEqual(checkField("dropout-p", "0.9"), { value: 0.9 });
    assert.match(checkField("dropout-seed", "-1").error, /^The random step must be a whole number from 0 to 2,147,483,647/);
    assert.match(checkField("dropout-seed", "1.5").error, /you typed 1.5/);
    assert.deepEqual(checkField("dropout-seed", String(2 ** 31 - 1)), { value: 2 ** 31 - 1 });
    assert.match(checkField("dropout-seed", String(2 ** 31)).error, /you typed 2147483648/);
  });

  it("accepts only the choices the server knows: pool mode and divisor", () => {
    assert.deepEqual(checkField("pool-mode", "ceil"), { value: "ceil" });
    assert.equal(checkField("pool-mode", "round").error, "The pooling edge must be one of floor, ceil.");
    assert.match(checkField("pool-divisor", "all").error, /^The average's divisor must be one of covered, padded, window/);
  });

  it("keeps the pooling padding at most half the window, as PyTorch does", () => {
    const r = checkSettings({ ...OK, "pool-size": "3", "pool-padding": "2" });
    assert.deepEqual(Object.keys(r.errors), ["pool-padding"]);
    assert.match(r.errors["pool-padding"], /at most 1 for a 3×3 window \(you typed 2\)/);
    assert.deepEqual(checkSettings({ ...OK, "pool-size": "4", "pool-padding": "2" }).errors, {});
  });

  it("checks only the fields that apply", () => {
    const bad = { ...OK, "padding-number": "9", slope: "7", "pool-size": "0", "pool-padding": "5", "pool-divisor": "x" };
    const r = checkSettings({ ...bad, "padding-mode": "same", "pool-type": "none" });
    assert.deepEqual(r.errors, {});
    const all = checkSettings({ ...bad, "padding-mode": "number", activation: "leaky_relu", "pool-type": "avg" });
    assert.deepEqual(Object.keys(all.errors).sort(), ["padding-number", "pool-divisor", "pool-padding", "pool-size",
      "slope"]);
    assert.equal(checkSettings({ ...OK, "dropout-p": "1" }).errors["dropout-p"],
      "Dropout p must be a number from 0 to 0.9 (you typed 1).");
  });

  it("builds the v2 request from checked values, with the server's defaults for fields that do not apply", () => {
    const { values } = checkSettings({ ...OK, "padding-mode": "number", "padding-number": "2", "pool-type": "none" });
    assert.deepEqual(requestBody(values, [[[1]]], [[[2]]]), {
      input: [[[1]]], kernel: [[[2]]], bias: 0, stride: 1, padding: 2, dilation: 1, activation: "relu", slope: 0.01,
      pool: { type: "none", size: 2, stride: 2, padding: 0, mode: "floor", divisor: "covered" }, dropout: 0.5, seed: 0,
    });
    const avg = checkSettings({ ...OK, "pool-type": "avg", "pool-divisor": "padded", "pool-padding": "1" }).values;
    assert.deepEqual(requestBody(avg, [], []).pool,
      { type: "avg", size: 2, stride: 2, padding: 1, mode: "floor", divisor: "padded" });
    assert.equal(requestBody(avg, [], []).padding, "valid");
  });

  it("checks the live step's channel against the layer and its what-ifs against the server's limits", () => {
    const own = { "live-channel": "3", "live-stride": "", "live-padding": " ", "live-dilation": "" };
    assert.deepEqual(checkLive(own, 16), { values: { channel: 3 }, errors: {} });
    const far = checkLive({ ...own, "live-channel": "9" }, 6);
    assert.equal(far.errors["live-channel"], "The channel must be a whole number from 0 to 5 (you typed 9).");
    assert.equal(far.values.channel, undefined); // never moved to 5
    const whatIf = checkLive({ ...own, "live-stride": "2", "live-padding": "11", "live-dilation": "0" }, 16);
    assert.deepEqual(whatIf.values, { channel: 3, stride: 2 });
    assert.deepEqual(Object.keys(whatIf.errors).sort(), ["live-dilation", "live-padding"]);
    assert.match(checkLive({ ...own, "live-channel": "" }, 16).errors["live-channel"], /^The channel must be/);
  });

  it("checks a kernel cell with the server's number limits instead of keeping its old value", () => {
    assert.deepEqual(checkKernelCell("-0.5"), { value: -0.5 });
    assert.equal(checkKernelCell("").error, "A kernel value must be a number from -1,000,000 to 1,000,000.");
    assert.match(checkKernelCell("2e6").error, /you typed 2e6/);
  });
});
