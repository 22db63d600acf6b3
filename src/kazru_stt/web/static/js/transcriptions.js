// Upload with a real progress bar (XHR reports upload progress; fetch does not), live
// status of the listed jobs over server-sent events, and actions on the selected ones.
"use strict";
(() => {
  const { api, t, said, csrf, statuses } = window.kazru;
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
      if (key !== "file" && key !== "diarize" && value !== "") data.append(key, value);
    }
    // Said either way: unticked is a choice, not "the install's default".
    data.append("diarize", form.elements.diarize.checked ? "true" : "false");
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
      refreshList();
    }
  }

  function refreshList() {
    htmx.ajax("GET", `/app/jobs${location.pathname === "/app" ? location.search : ""}`,
              { target: "#job-list", swap: "outerHTML" });
  }

  // Selection: a bar with the count, a zip of the selected transcripts, their deletion.
  function picked() { return [...document.querySelectorAll(".pick-one:checked")].map((b) => b.value); }

  function showBulk() {
    const bar = document.getElementById("bulk");
    if (!bar) return;
    const ids = picked();
    bar.hidden = ids.length === 0;
    document.getElementById("bulk-count").textContent = t("selected").replace("%(n)s", ids.length);
    const all = document.getElementById("pick-all");
    const boxes = document.querySelectorAll(".pick-one");
    all.checked = ids.length > 0 && ids.length === boxes.length;
    all.indeterminate = ids.length > 0 && ids.length < boxes.length;
  }

  async function bulkExport() {
    const note = document.getElementById("bulk-status");
    const format = document.getElementById("bulk-format").value;
    note.textContent = t("preparing");
    const response = await fetch("/api/v1/transcriptions/bulk/export", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: JSON.stringify({ ids: picked(), format }),
    });
    if (!response.ok) {
      let code = "", message = response.statusText;
      try { ({ code, message } = (await response.json()).error); } catch (e) { /* not JSON */ }
      note.textContent = said(code, message);
      return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `transcripts-${format}.zip`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);  // the download has its copy
    const skipped = Number(response.headers.get("Kazru-Skipped") || 0);
    note.textContent = skipped ? t("skipped_unfinished").replace("%(n)s", skipped) : "";
  }

  async function bulkDelete() {
    const ids = picked();
    if (!confirm(t("confirm_delete_many").replace("%(n)s", ids.length))) return;
    const note = document.getElementById("bulk-status");
    try {
      await api("POST", "/api/v1/transcriptions/bulk/delete", { ids });
      refreshList();
    } catch (error) { note.textContent = error.message; }
  }

  function wireBulk() {
    const all = document.getElementById("pick-all");
    if (!all || all.dataset.wired) return;
    all.dataset.wired = "1";
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll(".pick-one")) box.checked = all.checked;
      showBulk();
    });
    document.getElementById("jobs").addEventListener("change", (e) => {
      if (e.target.classList.contains("pick-one")) showBulk();
    });
    document.getElementById("bulk-export").addEventListener("click", bulkExport);
    document.getElementById("bulk-delete").addEventListener("click", bulkDelete);
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
        refreshList();  // languages, error text
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
    wireBulk();
    document.body.addEventListener("htmx:afterSwap", () => { watchActive(); wireBulk(); });
  });
})();
