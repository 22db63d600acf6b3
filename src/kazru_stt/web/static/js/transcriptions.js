// Upload with a real progress bar (XHR reports upload progress; fetch does not), and live
// status of the listed jobs over server-sent events.
"use strict";
(() => {
  const { t, said, csrf, statuses } = window.kazru;
  const MAX_STREAMS = 8;  // the server allows a few streams per user; the rest refresh later

  function uploadOne(file, form, list) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", `${t("uploading")}: ${file.name}`);
    const note = document.createElement("span");
    note.className = "muted";
    note.textContent = t("uploading");
    item.append(name, bar, note);
    list.append(item);

    const data = new FormData();
    data.append("file", file);
    for (const [key, value] of new FormData(form).entries()) {
      if (key !== "file" && value !== "") data.append(key, value);
    }
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/transcriptions");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status === 202) {
          bar.value = 100;
          note.textContent = t("uploaded");
          resolve(true);
        } else {
          let message = xhr.statusText, code = "";
          try {
            ({ code, message } = JSON.parse(xhr.responseText).error);
            message = said(code, message);
          } catch (e) { /* keep */ }
          note.textContent = `${t("upload_failed")}: ${message}`;
          note.className = "error small";
          resolve(false);
        }
      });
      xhr.addEventListener("error", () => { note.textContent = t("upload_failed"); resolve(false); });
      xhr.send(data);
    });
  }

  async function uploadAll(files) {
    const form = document.getElementById("upload-form");
    const list = document.getElementById("uploads");
    const results = [];
    for (const file of files) results.push(await uploadOne(file, form, list));
    if (results.some(Boolean)) {  // the list, fetched again, shows the new jobs live
      htmx.ajax("GET", "/app/jobs", { target: "#job-list", swap: "outerHTML" });
    }
  }

  function watch(row) {
    const id = row.dataset.job;
    const source = new EventSource(`/api/v1/transcriptions/${id}/events`);
    source.addEventListener("status", (e) => {
      const state = JSON.parse(e.data);
      row.dataset.status = state.status;
      const badge = row.querySelector(".badge");
      badge.textContent = t(state.status);
      badge.className = `badge status-${state.status}`;
      const bar = row.querySelector("progress");
      if (bar) bar.value = state.progress;
      if (statuses.terminal.includes(state.status)) {
        source.close();
        if (bar) bar.remove();
        htmx.ajax("GET", location.pathname === "/app" ? `/app/jobs${location.search}` : "/app/jobs",
                  { target: "#job-list", swap: "outerHTML" });  // languages, error text
      }
    });
    source.addEventListener("deleted", () => { source.close(); row.remove(); watched.delete(id); });
    source.addEventListener("timeout", () => {
      source.close();
      setTimeout(() => watched.set(id, watch(row)), 1000);
    });
    return source;
  }

  const watched = new Map();  // job id -> EventSource

  function watchActive() {
    for (const [id, source] of watched) {  // rows replaced by a swap: close their streams
      if (!document.querySelector(`tr[data-job="${id}"]`)) { source.close(); watched.delete(id); }
    }
    const rows = statuses.active
      .flatMap((status) => [...document.querySelectorAll(`tr[data-status="${status}"]`)]);
    for (const row of rows) {
      if (watched.size >= MAX_STREAMS) break;
      const old = watched.get(row.dataset.job);
      if (old) old.close();
      watched.set(row.dataset.job, watch(row));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const input = document.getElementById("files");
    const drop = document.getElementById("drop");
    input.addEventListener("change", () => uploadAll([...input.files]));
    drop.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
    });
    for (const type of ["dragenter", "dragover"]) {
      drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
    }
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      uploadAll([...e.dataTransfer.files]);
    });
    watchActive();
    document.body.addEventListener("htmx:afterSwap", watchActive);
  });
})();
