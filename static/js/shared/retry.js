// Retrying a request the server refused as busy (503 with Retry-After): a few times, waiting longer each time, and
// saying so on busyEvents (shared/busy.js shows it), so a person sees why the answer is late instead of an error.

export const RETRY = { attempts: 3, baseSeconds: 0.5, maxSeconds: 8, jitter: 0.2 };

/** "retry" events ({id, attempt, attempts, seconds}) before each wait; "done" ({id, ok, status}) after a retried request. */
export const busyEvents = new EventTarget();

let nextId = 1;

/** Seconds a Retry-After header asks for (delta-seconds, or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return null; // IMF-fixdate only
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, (date - now) / 1000);
}

/** The wait before retry `attempt` (1, 2, …): what the server asked, at least the doubling backoff, at most the cap. */
export function retryDelay(attempt, retryAfter, random = Math.random, settings = RETRY) {
  const backoff = settings.baseSeconds * 2 ** (attempt - 1);
  const wanted = Math.max(retryAfter ?? 0, backoff) * (1 + settings.jitter * random()); // clients spread out
  return Math.min(settings.maxSeconds, wanted);
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * fetch(url, options), retrying a 503 that carries Retry-After up to `attempts` times; other answers (and the last
 * 503) are returned as they are. The options' body must be re-sendable (a string, Blob or FormData, as here).
 */
export async function fetchRetrying(url, options, {
  fetchImpl = (...args) => fetch(...args), sleep = wait, random = Math.random, events = busyEvents, settings = RETRY,
} = {}) {
  const id = nextId++;
  for (let attempt = 1; ; attempt++) {
    const response = await fetchImpl(url, options);
    const after = response.status === 503 ? retryAfterSeconds(response.headers.get("retry-after")) : null;
    if (after === null || attempt > settings.attempts) {
      if (attempt > 1) events.dispatchEvent(new CustomEvent("done", { detail: { id, ok: response.ok, status: response.status } }));
      return response;
    }
    if (response.body && response.body.cancel) await response.body.cancel().catch(() => {}); // free the connection
    const seconds = retryDelay(attempt, after, random, settings);
    events.dispatchEvent(new CustomEvent("retry", { detail: { id, attempt, attempts: settings.attempts, seconds } }));
    await sleep(seconds * 1000);
  }
}
