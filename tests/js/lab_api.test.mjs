import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import { convolve, getPresets, prepareDigit } from "../../static/js/lab/lab_api.js";
import { busyEvents } from "../../static/js/shared/retry.js";

const realFetch = globalThis.fetch;

/** Replace fetch with one answering [status, retryAfter, body] in turn; returns the requests it was asked. */
function scripted(answers) {
  const calls = [];
  globalThis.fetch = async (url, options) => {
    calls.push({ url, options });
    const [status, retryAfter, body] = answers[Math.min(calls.length - 1, answers.length - 1)];
    const headers = new Headers({ "content-type": "application/json" });
    if (retryAfter !== undefined) headers.set("retry-after", retryAfter);
    return new Response(JSON.stringify(body), { status, headers });
  };
  return calls;
}

const BUSY = { error: { code: "busy", message: "The server is busy; retry in 1 s." } };

describe("the lab's API client", () => {
  afterEach(() => { globalThis.fetch = realFetch; });

  it("retries a busy 503 with Retry-After, resends the same body, and returns the answer", async () => {
    const calls = scripted([[503, "0", BUSY], [200, undefined, { output: [1, 2] }]]);
    const retries = [];
    const note = (e) => retries.push(e.detail.attempt);
    busyEvents.addEventListener("retry", note);
    try {
      const answer = await convolve({ input: [[1]] });
      assert.deepEqual(answer, { output: [1, 2] });
    } finally {
      busyEvents.removeEventListener("retry", note);
    }
    assert.equal(calls.length, 2);
    assert.deepEqual(retries, [1], "the page's busy note is told of the wait");
    assert.equal(calls[0].url, "/api/v2/lab/convolve");
    assert.equal(calls[1].options.body, calls[0].options.body);
    assert.equal(calls[1].options.body, JSON.stringify({ input: [[1]] }));
  });

  it("retries the v1 calls too (preparing a drawn digit)", async () => {
    const calls = scripted([[503, "0", BUSY], [200, undefined, { input: [[0.5]] }]]);
    const blob = new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" });
    assert.deepEqual(await prepareDigit(blob), [[0.5]]);
    assert.equal(calls.length, 2);
    assert.equal(calls[0].url, "/api/v1/predict?layers=&steps=false");
    assert.equal(calls[1].options.body, blob);
  });

  it("does not retry a 503 without Retry-After, nor a 4xx: it throws the API's code and message", async () => {
    for (const [status, retryAfter, code] of [[503, undefined, "shutting_down"], [422, undefined, "invalid_request"]]) {
      const calls = scripted([[status, retryAfter, { error: { code, message: `said ${code}` } }]]);
      await assert.rejects(getPresets(), (err) => err.status === status && err.code === code && err.message === `said ${code}`);
      assert.equal(calls.length, 1);
    }
  });
});
