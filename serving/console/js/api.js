// The one place that talks to the API: adds the key, turns error bodies into ApiError,
// and tells the app when the key stops working (401) so it can go back to sign-in.

const KEY = "cc.key"; // sessionStorage: the key dies with the tab, never lingers on a shared PC

export function getKey() {
  return sessionStorage.getItem(KEY);
}
export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
  // A route this server does not have (yet): the app's JSON 404 for an unmatched path says
  // exactly "Not Found", while a missing resource names it ("no chat x"). 405: the path exists
  // but not for this method. Either way the page shows "not available" instead of breaking.
  get unavailable() {
    return this.status === 405 || (this.status === 404 && this.message === "Not Found");
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function send(path, { method = "GET", body, params, raw, contentType } = {}) {
  const headers = { Authorization: `Bearer ${getKey() || ""}` };
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "text/plain; charset=utf-8";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path + query(params), { method, headers, body: payload });
  if (response.ok) return response;
  let data = null;
  try {
    data = await response.json();
  } catch {
    /* not JSON (a proxy's page): keep the status text */
  }
  const err = data?.error;
  const message = (typeof err === "string" ? err : err?.message) || response.statusText || `HTTP ${response.status}`;
  const error = new ApiError(response.status, message, data);
  if (response.status === 401) window.dispatchEvent(new CustomEvent("cc:unauthorized", { detail: error }));
  throw error;
}

export async function api(path, options) {
  const response = await send(path, options);
  return response.status === 204 ? null : response.json();
}

// Downloads need the Authorization header, so a plain <a href> cannot fetch them.
export async function download(path, params, fallbackName) {
  const response = await send(path, { params });
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
