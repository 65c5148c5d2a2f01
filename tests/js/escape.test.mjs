import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { esc } from "../../static/js/shared/escape.js";

describe("esc", () => {
  it("neutralises a script tag", () => {
    assert.equal(esc('<script>alert("x")</script>'), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });

  it("escapes both quotes, so a value cannot leave its attribute", () => {
    assert.equal(esc(`" onerror="x`), "&quot; onerror=&quot;x");
    assert.equal(esc("it's"), "it&#39;s");
  });

  it("escapes ampersands first-class, without double-decoding entities", () => {
    assert.equal(esc("a & b"), "a &amp; b");
    assert.equal(esc("&lt;"), "&amp;lt;");
  });

  it("leaves ordinary text alone and prints numbers and other values as strings", () => {
    assert.equal(esc("conv1 · 5×5 −0.25"), "conv1 · 5×5 −0.25");
    assert.equal(esc(3.25), "3.25");
    assert.equal(esc(0), "0");
    assert.equal(esc(null), "null");
  });

  it("escapes a hostile file name as the gallery and steps would show it", () => {
    assert.equal(esc('digit"><img src=x onerror=alert(1)>.png'),
      "digit&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.png");
  });
});
