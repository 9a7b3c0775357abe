/* Talking to the console server: the JSON fetch wrapper, file downloads, and the error bar. */

import { $, el } from "./dom.js";

export function showError(message) {
  $("error-text").textContent = String(message || "something went wrong");
  $("error").hidden = false;
}

export function clearError() {
  $("error").hidden = true;
  $("error-text").textContent = "";
}

export function errorLine(err) {
  if (err instanceof ApiError) return err.message;
  if (err && err.name === "TypeError") return "cannot reach the ddbkit console server";
  return (err && err.message) || String(err);
}

/** Wrap an async event handler: any failure becomes one line in the error bar. */
export function guarded(fn) {
  return async function (event) {
    try {
      await fn.call(this, event);
    } catch (err) {
      showError(errorLine(err));
    }
  };
}

export class ApiError extends Error {
  constructor(status, data) {
    const line = data && typeof data.error === "string" ? data.error : `HTTP ${status}`;
    super(line);
    this.name = "ApiError";
    this.status = status;
    this.data = data || {};
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = { error: response.ok ? "the server sent a reply that is not JSON" : `HTTP ${response.status}` };
      if (response.ok) throw new ApiError(response.status, data);
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Fetch a file (GET, or POST with a JSON body) and hand it to the browser as a download. */
export async function download(method, path, body, fallbackName) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    throw new ApiError(response.status, data);
  }
  const blob = await response.blob();
  const name = filenameFrom(response.headers.get("Content-Disposition")) || fallbackName;
  saveBlob(blob, name);
  return name;
}

function filenameFrom(disposition) {
  if (!disposition) return null;
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ""));
    } catch (_) {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1].trim() : null;
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name || "download", class: "hidden-link" });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export const enc = encodeURIComponent;
