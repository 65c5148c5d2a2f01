// API v2 client for the explain page: the chosen model (?model= in the address) on every call, the input sent as
// its capture id (re-sent as the image when the server no longer holds it), jobs polled with progress and cancel.
import { fetchRetrying } from "../shared/retry.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The model the page shows (?model=NAME), or null for the server's default. */
export function currentModel() {
  return new URLSearchParams(window.location.search).get("model");
}

function withModel(path) {
  const model = currentModel();
  return `/api/v2${path}${model ? `${path.includes("?") ? "&" : "?"}model=${encodeURIComponent(model)}` : ""}`;
}

async function answer(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const err = body && body.error ? body.error : { code: "http_error", message: response.statusText };
    throw new ApiError(response.status, err.code, err.message);
  }
  return { status: response.status, body };
}

/** GET an API v2 path (the page's ?model= added). */
export async function getV2(path) {
  return (await answer(await fetchRetrying(withModel(path)))).body;
}

/** POST JSON to an API v2 path; returns {status, body}. */
export async function postV2(path, body = {}) {
  const response = await fetchRetrying(withModel(path), {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return answer(response);
}

/** The current input: {image} (a data URL) and, once the server has it, its capture id. */
export const input = { image: null, id: null };

/** POST with the current input: by capture id, and once more with the image itself if that capture expired. */
export async function postInput(path, body = {}) {
  if (input.id) {
    try {
      return await postV2(path, { ...body, input_id: input.id });
    } catch (err) {
      if (err.code !== "capture_expired") throw err;
      input.id = null;
    }
  }
  return postV2(path, { ...body, image: input.image });
}

/** A job that can be cancelled: cancel() asks the server to stop it. */
export class JobRun {
  constructor(url) {
    this.url = url;
    this.cancelled = false;
  }

  async cancel() {
    this.cancelled = true;
    await fetchRetrying(`${this.url}/cancel`, { method: "POST" }).catch(() => null);
  }

  /** Poll until the job ends, reporting its fraction done; its result, or an Error (code "cancelled" when stopped). */
  async wait(onProgress, intervalMs = 150) {
    for (;;) {
      const job = (await answer(await fetchRetrying(this.url))).body;
      onProgress(job.fraction);
      if (job.status === "done") return job.result;
      if (job.status === "cancelled") throw new ApiError(499, "cancelled", "Cancelled.");
      if (job.status !== "running") throw new ApiError(500, "job_failed", job.error ? job.error.message : job.status);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
