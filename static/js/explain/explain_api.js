// API v2 client for the explain page: JSON posts, jobs polled until done, errors as Error with the API's message.

function withModel(path) {
  const model = new URLSearchParams(window.location.search).get("model");
  return `/api/v2${path}${model ? `${path.includes("?") ? "&" : "?"}model=${encodeURIComponent(model)}` : ""}`;
}

async function answer(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.error ? body.error.message : response.statusText;
    throw new Error(message);
  }
  return { status: response.status, body };
}

/** GET an API v2 path (the page's ?model= added). */
export async function getV2(path) {
  return (await answer(await fetch(withModel(path)))).body;
}

/** POST JSON to an API v2 path; returns {status, body}. */
export async function postV2(path, body = {}) {
  const response = await fetch(withModel(path), {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return answer(response);
}

/** Poll a job until it ends, reporting its fraction done; its result, or an Error. */
export async function waitForJob(url, onProgress, intervalMs = 200) {
  for (;;) {
    const job = await (await fetch(url)).json();
    onProgress(job.fraction);
    if (job.status === "done") return job.result;
    if (job.status !== "running") throw new Error(job.error ? job.error.message : `job ${job.status}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
