import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { busyText, showBusyNotes } from "../../static/js/shared/busy.js";
import { fetchRetrying, retryAfterSeconds, retryDelay } from "../../static/js/shared/retry.js";

const SETTINGS = { attempts: 3, baseSeconds: 0.5, maxSeconds: 8, jitter: 0.2 };

/** A fetch that answers from a list of [status, retryAfter] in turn, and records what it was asked. */
function scripted(answers) {
  const calls = [];
  const fetchImpl = async (url, options) => {
    calls.push({ url, options });
    const [status, retryAfter] = answers[Math.min(calls.length - 1, answers.length - 1)];
    const headers = new Headers(retryAfter === undefined ? {} : { "retry-after": retryAfter });
    return new Response(status === 200 ? "{}" : '{"error":{"code":"busy","message":"busy"}}', { status, headers });
  };
  return { fetchImpl, calls };
}

function recorder() {
  const events = new EventTarget();
  const seen = [];
  for (const type of ["retry", "done"]) events.addEventListener(type, (e) => seen.push({ type, ...e.detail }));
  return { events, seen };
}

describe("retryAfterSeconds", () => {
  it("reads delta-seconds and HTTP dates, and nothing else", () => {
    assert.equal(retryAfterSeconds("2"), 2);
    assert.equal(retryAfterSeconds(" 0 "), 0);
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(retryAfterSeconds("Thu, 01 Jan 2026 00:00:03 GMT", now), 3);
    assert.equal(retryAfterSeconds("Wed, 31 Dec 2025 23:59:00 GMT", now), 0); // a date in the past: at once
    for (const bad of [null, undefined, "", "soon", "-1", "1.5"]) assert.equal(retryAfterSeconds(bad), null, bad);
  });
});

describe("retryDelay", () => {
  it("waits what the server asks, at least the doubling backoff, never more than the cap", () => {
    const none = () => 0;
    assert.equal(retryDelay(1, 1, none, SETTINGS), 1); // Retry-After 1 beats the 0.5 s backoff
    assert.equal(retryDelay(2, 0, none, SETTINGS), 1); // 0.5 × 2
    assert.equal(retryDelay(3, 1, none, SETTINGS), 2); // 0.5 × 4 beats Retry-After 1
    assert.equal(retryDelay(1, 60, none, SETTINGS), 8); // capped
    assert.equal(retryDelay(1, 1, () => 1, SETTINGS), 1.2); // jitter adds at most 20 %
  });
});

describe("fetchRetrying", () => {
  it("retries a 503 with Retry-After, resending the same request, and reports each wait", async () => {
    const { fetchImpl, calls } = scripted([[503, "1"], [503, "1"], [200]]);
    const { events, seen } = recorder();
    const slept = [];
    const body = JSON.stringify({ pixels: [[0]] });
    const response = await fetchRetrying("/api/v1/predict", { method: "POST", body }, {
      fetchImpl, events, sleep: async (ms) => slept.push(ms), random: () => 0, settings: SETTINGS,
    });
    assert.equal(response.status, 200);
    assert.equal(calls.length, 3);
    assert.ok(calls.every((c) => c.url === "/api/v1/predict" && c.options.body === body));
    assert.deepEqual(slept, [1000, 1000]); // max(Retry-After 1, backoff 0.5 then 1)
    assert.deepEqual(seen.map((e) => [e.type, e.attempt ?? e.ok]), [["retry", 1], ["retry", 2], ["done", true]]);
    assert.equal(new Set(seen.map((e) => e.id)).size, 1);
  });

  it("gives up after the bounded number of retries and returns the last 503", async () => {
    const { fetchImpl, calls } = scripted([[503, "1"]]);
    const { events, seen } = recorder();
    const slept = [];
    const response = await fetchRetrying("/x", {}, {
      fetchImpl, events, sleep: async (ms) => slept.push(ms), random: () => 0, settings: SETTINGS,
    });
    assert.equal(response.status, 503);
    assert.equal(calls.length, SETTINGS.attempts + 1);
    assert.deepEqual(slept, [1000, 1000, 2000]); // backoff 0.5, 1, 2 against Retry-After 1
    assert.deepEqual(seen.at(-1), { type: "done", id: seen[0].id, ok: false, status: 503 });
  });

  it("does not retry a 503 without Retry-After, nor any other error", async () => {
    for (const answer of [[503], [500, "1"], [429, "1"], [422], [200]]) {
      const { fetchImpl, calls } = scripted([answer]);
      const { events, seen } = recorder();
      const response = await fetchRetrying("/x", {}, { fetchImpl, events, sleep: async () => assert.fail("slept") });
      assert.equal(response.status, answer[0]);
      assert.equal(calls.length, 1);
      assert.deepEqual(seen, []);
    }
  });
});

/** Just enough document for the note: createElement and body.append. */
function fakeDocument() {
  const body = { children: [], append(el) { this.children.push(el); } };
  const createElement = () => ({ attributes: {}, dataset: {}, setAttribute(k, v) { this.attributes[k] = v; } });
  return { body, createElement };
}

describe("the busy note", () => {
  it("shows while a request waits to be retried and hides when every waiting request is done", () => {
    const doc = fakeDocument();
    const events = new EventTarget();
    const note = showBusyNotes(doc, events);
    assert.equal(doc.body.children[0], note);
    assert.equal(note.attributes.role, "status");
    assert.equal(note.dataset.testid, "busy");
    assert.equal(note.hidden, true);
    const retry = (id, attempt) => events.dispatchEvent(new CustomEvent("retry", { detail: { id, attempt, attempts: 3, seconds: 1.25 } }));
    retry(1, 1);
    assert.equal(note.hidden, false);
    assert.equal(note.textContent, "The server is busy: trying again in 1.3 s (attempt 1 of 3).");
    retry(2, 2);
    events.dispatchEvent(new CustomEvent("done", { detail: { id: 1, ok: true } }));
    assert.equal(note.hidden, false); // request 2 still waits
    assert.match(note.textContent, /attempt 2 of 3/);
    events.dispatchEvent(new CustomEvent("done", { detail: { id: 2, ok: false } }));
    assert.equal(note.hidden, true);
    assert.equal(busyText(new Map()), "");
  });
});
