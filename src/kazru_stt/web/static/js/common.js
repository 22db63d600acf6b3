// Shared by every page: translated strings, API calls with the session's CSRF token, sign-out.
"use strict";
window.kazru = (() => {
  const strings = JSON.parse(document.getElementById("i18n").textContent);
  // The job statuses, from domain/job_status (active: queued or running; terminal: ended).
  const statuses = JSON.parse(document.getElementById("job-statuses").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      let message = response.statusText, code = "";
      try { ({ message, code } = (await response.json()).error); } catch (e) { /* not JSON */ }
      const error = new Error(said(code, message));
      error.code = code;  // for a message in the page's language
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  function t(key) { return strings[key] || key; }
  // An API error as the page's language says it, where its code has a message; else as sent.
  function said(code, message) { return strings[`error_${code}`] || message; }

  document.addEventListener("DOMContentLoaded", () => {
    // The sign-in form tells the server the browser's time zone (an account's default).
    const zone = document.getElementById("browser-zone");
    if (zone) zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    const out = document.getElementById("sign-out");
    if (out) out.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/logout"); } finally { location.href = "/login"; }
    });
  });
  return { api, t, said, csrf, statuses };
})();
