import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isPixels } from "../../static/js/lab/chain_view.js";
import { yRange } from "../../static/js/lab/charts.js";
import {
  activationCaption, dropoutHtml, flatHtml, outputSizeHtml, poolCaption, poolSizeHtml,
} from "../../static/js/lab/describe.js";
import { convCellHtml, largestDifference, layerOptions, readWhatIf, settingsText, settingText, sumNote } from "../../static/js/lab/live.js";
import { lossesHtml, softmaxTable } from "../../static/js/lab/softmax.js";
import { CHAIN, CHAIN_AVG, SOFTMAX } from "./lab_v2_result.mjs";

describe("sizes and captions", () => {
  it("print the convolution's formulas and size", () => {
    const html = outputSizeHtml(CHAIN.output_size);
    assert.match(html, /\(\(4 − 2 \+ 2·1\) \/ 1\) \+ 1 = 5/);
    assert.match(html, /data-role="size">5×5</);
  });

  it("give the pool's floor and ceil formulas, the mode in use in bold", () => {
    const html = poolSizeHtml(CHAIN.pooled);
    assert.match(html, /ceil mode —\s+rows ⌈\(5 \+ 2·0 − 2\) \/ 2⌉ \+ 1 = ⌈1\.5⌉ \+ 1 = 3/);
    assert.match(html, /floor mode —\s+rows ⌊\(5 \+ 2·0 − 2\) \/ 2⌋ \+ 1 = ⌊1\.5⌋ \+ 1 = 2/);
    assert.match(html, /data-role="pool-size">3×3</);
    assert.equal(poolCaption(CHAIN.pooled), "max pooling 2×2, stride 2, ceil mode: 3×3");
    assert.equal(poolCaption(CHAIN_AVG.pooled), "avg pooling 3×3, stride 2, padding 1, floor mode: 3×3");
  });

  it("never caption a map 'after no activation'", () => {
    assert.equal(activationCaption("no activation"), "no activation: the same as the feature map");
    assert.equal(activationCaption("ReLU"), "after ReLU");
  });
});

describe("flattening and dropout", () => {
  it("map every index to its cell, row by row", () => {
    const html = flatHtml(CHAIN.flattened);
    assert.match(html, /title="index 5 ← pooled \[1, 2\]"/);
    assert.match(html, /index 8 ← cell\s+\[2, 2\]/);
  });

  it("strike out dropped values and scale kept ones by 1/(1 − p)", () => {
    const html = dropoutHtml(CHAIN.dropout);
    const kept = CHAIN.dropout.kept.reduce((a, b) => a + b, 0);
    assert.match(html, new RegExp(`data-kept="${kept}"`));
    assert.equal((html.match(/class="dropped"/g) || []).length, CHAIN.dropout.kept.length - kept);
    assert.match(html, /1 \/ \(1 − p\) = 2/);
  });
});

describe("softmax panel", () => {
  it("shows both gradients for every score and the losses for the true label", () => {
    const table = softmaxTable(SOFTMAX);
    assert.equal((table.match(/data-role="ce-grad"/g) || []).length, 10);
    const html = lossesHtml(SOFTMAX);
    assert.match(html, /−ln p\(4\)/);
    assert.match(html, /data-role="ce" data-value="5\.43/);
    assert.doesNotMatch(html, /at most/);
  });

  it("charts a range that includes the current loss", () => {
    const series = [{ ys: SOFTMAX.sweep.cross_entropy }, { ys: SOFTMAX.sweep.mse }];
    const [lo, hi] = yRange(series, [SOFTMAX.cross_entropy]);
    assert.equal(lo, 0);
    assert.ok(hi >= SOFTMAX.cross_entropy);
  });
});

describe("live panel", () => {
  it("sends only the settings the student changed", () => {
    const form = { stride: "2", padding: "", dilation: "", mode: "ceil", divisor: "" };
    assert.deepEqual(readWhatIf((k) => form[k]), { stride: 2, mode: "ceil" });
  });

  it("lists convolution and pooling layers only", () => {
    const html = layerOptions([{ name: "c", kind: "conv", op: "conv2d", shape: [6, 28, 28] },
      { name: "r", kind: "activation", op: "relu", shape: [6, 28, 28] }, { name: "p", kind: "pool", op: "max_pool2d", shape: [6, 14, 14] }]);
    assert.equal((html.match(/<option/g) || []).length, 2);
    assert.match(html, /value="p"/);
  });

  it("reads settings the way a student writes them", () => {
    assert.equal(settingText([[2, 2], [2, 2]]), "2");
    assert.equal(settingText([[1, 2], [1, 2]]), "[[1,2],[1,2]]");
    const own = { layer_settings: { stride: [1, 1], padding: [[2, 2], [2, 2]], dilation: [1, 1] } };
    assert.match(settingsText({ ...own, as_network: true, settings: own.layer_settings }), /stride 1, padding 2, dilation 1/);
    assert.match(settingsText({ ...own, as_network: false, settings: { ...own.layer_settings, stride: [2, 2] } }),
      /What if: stride 2/);
    assert.equal(sumNote(1, 1, 0.5), "The input channel's products, + bias 0.5000, give the feature map:");
    assert.match(sumNote(64, 16, 0), /all 64 input channels \(16 shown above\)/);
  });

  it("adds each channel's products, the unshown channels and the bias to the value", () => {
    const r = { layer: "conv2", channel: 3, bias: 0.5, input_channels: [0, 3], per_channel: [[[1]], [[2]]],
      feature_map: [[10.5]] };
    const html = convCellHtml(r, 0, 0);
    assert.match(html, /1\.000 \+ 2\.000 \+ \(the other 1 channels\) 7\.000 \+ bias 0\.500/);
    assert.equal(largestDifference([[1, 2]], [[1, 2.5]]), 0.5);
  });

  it("draws only pixel intensities in grey", () => {
    assert.equal(isPixels([[[0, 1], [0.5, 0]]]), true);
    assert.equal(isPixels([[[0, 2]]]), false);
  });
});
