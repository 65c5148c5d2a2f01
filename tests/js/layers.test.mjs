import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  ACTIVATIONS, LAYER_NOTES, activationAfter, firstOfKind, isPerDigit, layerWithRole,
} from "../../static/js/shared/layers.js";
import { LENET_LAYERS } from "./fixtures.mjs";

const byName = (name) => LENET_LAYERS.find((l) => l.name === name);

describe("roles", () => {
  it("find the input, logits and probabilities layers by role", () => {
    assert.equal(layerWithRole(LENET_LAYERS, "input").name, "input");
    assert.equal(layerWithRole(LENET_LAYERS, "logits").name, "fc3");
    assert.equal(layerWithRole(LENET_LAYERS, "probabilities").name, "softmax");
  });

  it("follow the role, not the name", () => {
    const renamed = [{ name: "pixels", kind: "input", role: "input" }, { name: "scores", kind: "linear", role: "logits" }];
    assert.equal(layerWithRole(renamed, "input").name, "pixels");
    assert.equal(isPerDigit(renamed[1]), true);
    assert.equal(isPerDigit(byName("fc2")), false);
    assert.equal(isPerDigit(byName("softmax")), true);
  });

  it("find the first layer of a kind", () => {
    assert.equal(firstOfKind(LENET_LAYERS, "conv").name, "conv1");
    assert.equal(firstOfKind(LENET_LAYERS, "tanh"), undefined);
  });
});

describe("activationAfter", () => {
  const at = (name) => LENET_LAYERS.findIndex((l) => l.name === name);

  it("is the activation right after a conv or linear layer", () => {
    assert.equal(activationAfter(LENET_LAYERS, at("conv1")).name, "relu1");
    assert.equal(activationAfter(LENET_LAYERS, at("fc1")).name, "relu3");
  });

  it("is null when the next layer is no element-wise activation, or the layer is not weighted", () => {
    assert.equal(activationAfter(LENET_LAYERS, at("fc3")), null); // softmax follows
    assert.equal(activationAfter(LENET_LAYERS, at("relu1")), null);
    assert.equal(activationAfter(LENET_LAYERS, at("softmax")), null); // the last layer
  });
});

describe("notes and rules", () => {
  it("have a note for every kind the lenet model uses and a rule for each activation", () => {
    for (const layer of LENET_LAYERS) assert.ok(LAYER_NOTES[layer.kind], layer.kind);
    assert.deepEqual(Object.keys(ACTIVATIONS).sort(), ["relu", "tanh"]);
    assert.equal(ACTIVATIONS.relu.rule, "max(0, x)");
    assert.equal(ACTIVATIONS.tanh.rule, "tanh(x)");
  });

  it("write a rule around its argument without touching the x inside max (not 'ma-0.09(0, x)')", () => {
    assert.equal(ACTIVATIONS.relu.of("-0.0935"), "max(0, -0.0935)");
    assert.equal(ACTIVATIONS.tanh.of("0.5"), "tanh(0.5)");
    assert.equal(ACTIVATIONS.relu.apply(-2), 0);
    assert.equal(ACTIVATIONS.relu.apply(1.5), 1.5);
    assert.equal(ACTIVATIONS.tanh.apply(0), 0);
  });
});
