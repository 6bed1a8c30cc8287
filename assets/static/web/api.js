// Calling the service's API from the pages, with the session and the CSRF token, so a
// page has exactly the API's validation and permissions. Every answer is
// {ok, status, body, response}; an error body is the API's one shape
// ({status, code, message, errors: {field: [messages]}}), or null when the network failed.

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function networkError(error) {
  return { ok: false, status: 0, body: { code: "network", message: "the request did not reach the service (" + error + "); check the connection and try again" } };
}

async function readBody(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.startsWith("application/json")) {
    try { return await response.json(); } catch (error) { return null; }
  }
  return null;
}

// method, url; json: a body sent as JSON; form: a FormData; accept: the Accept header.
export async function api(method, url, { json, form, accept } = {}) {
  const headers = { Accept: accept || "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  } catch (error) {
    return networkError(error);
  }
  const answer = { ok: response.ok, status: response.status, response, body: null };
  if (!accept || accept === "application/json" || !response.ok) answer.body = await readBody(response);
  return answer;
}

// A multipart POST that reports its upload progress (fetch cannot): onProgress(sent, total).
export function uploadWithProgress(url, form, onProgress) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.withCredentials = true;
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (error) { body = null; }
      resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, body });
    });
    request.addEventListener("error", () => resolve(networkError("the connection failed")));
    request.send(form);
  });
}

// Follow a job (GET /api/v1/jobs/<id>) until it ends; onUpdate(document) after each look.
// Resolves with the last document (status OK or ERROR), or with a QUEUED one when the
// limit of looks is reached.
export async function followJob(jobsEndpoint, jobId, onUpdate, { interval = 500, limit = 600 } = {}) {
  for (let look = 0; look < limit; look += 1) {
    const answer = await api("GET", jobsEndpoint + jobId);
    if (answer.ok) {
      onUpdate(answer.body);
      if (answer.body.status !== "QUEUED") return answer.body;
    } else if (answer.status && answer.status !== 0 && answer.status < 500) {
      return { status: "ERROR", error: [{ error: (answer.body && answer.body.message) || "the job cannot be read" }], output: [] };
    }
    await new Promise((done) => setTimeout(done, interval));
  }
  return { status: "QUEUED" };
}

// What a job's document says while it runs, in words.
export function jobStateWords(job, noun) {
  const progress = job.progress || { done: 0, total: 0 };
  if (job.status === "QUEUED" && !job.started_at) return "Waiting for a worker…";
  if (job.status === "QUEUED") {
    return progress.total > 1 ? progress.done + " of " + progress.total + " " + noun + " done…" : "Working…";
  }
  return job.status === "OK" ? "Done." : "Finished with errors.";
}
