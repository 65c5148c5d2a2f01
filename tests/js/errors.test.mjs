import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { friendly } from "../../static/js/shared/errors.js";

describe("friendly", () => {
  it("turns the API's codes into sentences, without the code or validation jargon", () => {
    const text = friendly({ code: "not_an_image", message: "body: not an image" });
    assert.match(text, /not an image/);
    assert.doesNotMatch(text, /not_an_image|body:/);
    assert.match(friendly({ code: "empty_image", message: "x" }), /blank/);
  });

  it("says the server is unreachable when fetch itself fails", () => {
    assert.match(friendly(new TypeError("Failed to fetch")), /could not be reached/);
  });

  it("falls back to the server's message for codes it does not know", () => {
    assert.equal(friendly({ code: "teapot", message: "I am a teapot." }), "I am a teapot.");
  });
});
