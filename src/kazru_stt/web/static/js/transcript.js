// The transcript view: the word being spoken is highlighted, a click on a word seeks there,
// passages are corrected in place (text: Enter saves, Escape cancels; language, speaker,
// split at the cursor, merge with the next), undo and redo on the server, speakers renamed
// in place and everywhere at once, review and consent, delete after a confirmation.
"use strict";
(() => {
  const { api, t, statuses } = window.kazru;
  const root = document.getElementById("transcript");
  const jobId = root.dataset.job;
  const base = `/api/v1/transcriptions/${jobId}`;
  const media = document.getElementById("media");
  const statusLine = document.getElementById("status-line");
  const undoButton = document.getElementById("undo");
  const redoButton = document.getElementById("redo");
  // A workspace viewer reads, plays and exports; the page offers no correction.
  const canEdit = root.dataset.canEdit === "true";
  let words = [];
  let current = null;

  function say(text) { if (statusLine) statusLine.textContent = text; }

  function indexWords() {
    words = [...root.querySelectorAll(".w")].map((el) => ({
      el, start: parseFloat(el.dataset.start), end: parseFloat(el.dataset.end),
    }));
  }

  function highlight() {
    if (!media) return;
    const now = media.currentTime;
    let lo = 0, hi = words.length - 1, found = null;
    while (lo <= hi) {  // the last word that started before now
      const mid = (lo + hi) >> 1;
      if (words[mid].start <= now) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    const word = found !== null && now <= words[found].end + 0.3 ? words[found].el : null;
    if (word !== current) {
      if (current) current.classList.remove("now");
      if (word) word.classList.add("now");
      current = word;
    }
  }

  function tick() { highlight(); if (media && !media.paused) requestAnimationFrame(tick); }

  function seek(seconds) {
    if (!media) return;
    media.currentTime = seconds;
    highlight();
  }

  // The passage to come back to after the list is rendered again: the one being worked on
  // keeps the keyboard's place (the next one is a Tab away, not the whole page).
  function focusPassage(index) {
    if (index === null || index === undefined) return;
    const segments = [...root.querySelectorAll(".segment")];
    const wanted = segments.find((s) => s.dataset.index === String(index)) || segments.at(-1);
    wanted?.querySelector(".text")?.focus();
  }

  function workingOn() {
    return document.activeElement?.closest?.(".segment")?.dataset.index ?? null;
  }

  // The history panel, rendered by the server, read when opened and after each change.
  const history = document.getElementById("history");
  async function loadHistory() {
    if (!history?.open) return;
    const response = await fetch(history.dataset.url, { credentials: "same-origin" });
    if (response.ok) history.querySelector(".history-items").innerHTML = await response.text();
  }

  // After any correction the passages are rendered again by the server (a split or merge
  // renumbers them), and the undo/redo buttons follow the server's history.
  async function refresh(focusIndex = null) {
    const response = await fetch(`/app/t/${jobId}/segments`, { credentials: "same-origin" });
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.querySelector("#segments");
    document.getElementById("segments").replaceWith(fresh);
    undoButton.disabled = fresh.dataset.canUndo !== "true";
    redoButton.disabled = fresh.dataset.canRedo !== "true";
    current = null;
    indexWords();
    highlight();
    focusPassage(focusIndex);
    loadHistory();
  }

  async function correct(method, url, body, focusIndex = workingOn()) {
    let outcome;
    try {
      await api(method, url, body);
      outcome = t("saved");
    } catch (error) {
      outcome = `${t("save_failed")}: ${error.message}`;
    }
    await refresh(focusIndex);
    say(outcome);  // once the passages show it: "Saved" over the old text would mislead
  }

  const segmentUrl = (segment, tail = "") => `${base}/segments/${segment.dataset.index}${tail}`;

  function caretOffset(textEl) {
    const selection = window.getSelection();
    if (!selection.rangeCount || !textEl.contains(selection.anchorNode)) return null;
    const range = selection.getRangeAt(0).cloneRange();
    range.selectNodeContents(textEl);
    range.setEnd(selection.anchorNode, selection.anchorOffset);
    return range.toString().length;
  }

  function startEdit(textEl) {
    if (!canEdit || textEl.isContentEditable) return;
    const segment = textEl.closest(".segment");
    const previousHTML = textEl.innerHTML;
    const previousText = textEl.textContent;
    textEl.textContent = previousText;
    textEl.contentEditable = "true";
    textEl.focus();
    let done = false;
    const finish = async (keep, splitAt = null) => {
      if (done) return;
      done = true;
      textEl.removeEventListener("keydown", onKey);
      textEl.removeEventListener("blur", onBlur);
      textEl.contentEditable = "false";
      const text = textEl.textContent.trim();
      const changed = keep && text !== previousText.trim();
      const index = Number(segment.dataset.index);
      if (!changed && splitAt === null) { textEl.innerHTML = previousHTML; textEl.focus(); return; }
      if (changed) await correct("PATCH", segmentUrl(segment), { text }, index);
      if (splitAt !== null) {
        // The offset counts in the edited text; the server splits its saved text. The
        // keyboard goes on in the second half, where the caret was.
        const at = splitAt - (textEl.textContent.length - textEl.textContent.trimStart().length);
        await correct("POST", segmentUrl(segment, "/split"), { at: Math.max(1, at) }, index + 1);
      }
    };
    const onKey = (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        finish(true, caretOffset(textEl));
      } else if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); finish(true); }
      if (e.key === "Escape") { e.preventDefault(); finish(false); }
    };
    const onBlur = () => finish(true);
    textEl.addEventListener("keydown", onKey);
    textEl.addEventListener("blur", onBlur);
    textEl.splitHere = () => finish(true, caretOffset(textEl));
  }

  const step = (which) => correct("POST", `${base}/${which}`);  // undo, redo

  // Find: each press shows the next passage holding the text (in view, the player at it);
  // Replace all is one correction on the server (one undo).
  let findAt = -1;
  function occurrences(text, wanted, matchCase) {
    const hay = matchCase ? text : text.toLocaleLowerCase();
    const needle = matchCase ? wanted : wanted.toLocaleLowerCase();
    let n = 0;
    for (let i = hay.indexOf(needle); needle && i >= 0; i = hay.indexOf(needle, i + needle.length)) n++;
    return n;
  }

  function findNext() {
    const wanted = document.getElementById("find-text").value;
    const matchCase = document.getElementById("find-case").checked;
    const segments = [...root.querySelectorAll(".segment")];
    const counts = segments.map((s) => occurrences(s.querySelector(".text").textContent, wanted, matchCase));
    const total = counts.reduce((a, b) => a + b, 0);
    document.getElementById("find-count").textContent = t("found_count").replace("%(n)s", total);
    for (const s of root.querySelectorAll(".segment.found")) s.classList.remove("found");
    if (!total) return;
    do { findAt = (findAt + 1) % segments.length; } while (!counts[findAt]);
    const segment = segments[findAt];
    segment.classList.add("found");
    segment.scrollIntoView({ block: "center" });
    seek(parseFloat(segment.dataset.start));
  }

  function wireFind() {
    const form = document.getElementById("find-form");
    if (!form) return;
    form.addEventListener("submit", (e) => { e.preventDefault(); findNext(); });
    document.getElementById("find-text").addEventListener("input", () => { findAt = -1; });
    document.getElementById("replace-all")?.addEventListener("click", async () => {
      const find = document.getElementById("find-text").value;
      if (!find.trim()) return;
      try {
        const done = await api("POST", `${base}/replace`, {
          find, replace: document.getElementById("replace-text").value,
          match_case: document.getElementById("find-case").checked,
        });
        document.getElementById("find-count").textContent = t("replaced_count").replace("%(n)s", done.replaced);
        await refresh();
      } catch (error) { say(`${t("save_failed")}: ${error.message}`); }
    });
  }

  // "Wrong number of speakers?": the speakers are found again on a worker (the text
  // stays); the page follows the job's stage and shows the result when it is there.
  async function untilSpeakers() {
    for (;;) {
      await new Promise((done) => setTimeout(done, 1000));
      if ((await api("GET", base)).stage === "done") break;
    }
    location.reload();  // the speakers' list, colours and passages all change
  }

  function rediarize() {
    // Text first, speakers after (stages apart): the page follows until they are in.
    if (document.getElementById("speakers-pending")) untilSpeakers().catch(() => {});
    const form = document.getElementById("rediarize-form");
    if (!form) return;
    const status = document.getElementById("rediarize-status");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const count = document.getElementById("rediarize-count").value;
      const button = document.getElementById("rediarize-go");
      button.disabled = true;
      try {
        await api("POST", `${base}/diarize`, count ? { num_speakers: parseInt(count, 10) } : {});
        status.textContent = t("finding_speakers");
        await untilSpeakers();
      } catch (error) {
        status.textContent = error.message;
        button.disabled = false;
      }
    });
  }

  // "Recognise again?": another engine, model or language. The transcript as it is becomes
  // an earlier version; the page then follows the job like any queued one.
  function recognizeAgain() {
    const form = document.getElementById("recognize-form");
    if (!form) return;
    const status = document.getElementById("recognize-status");
    const { engine, model, language } = form.elements;
    const localOnly = () => {  // a local model is no choice for a cloud engine
      model.disabled = engine.value !== form.dataset.localEngine;
      if (model.disabled) model.value = "";
    };
    engine.addEventListener("change", localOnly);
    localOnly();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = document.getElementById("recognize-go");
      button.disabled = true;
      try {
        // "" is the engine's default model (and the per-language ones an operator set)
        const body = { engine: engine.value, language: language.value, model: model.value };
        await api("POST", `${base}/recognize`, body);
        location.reload();
      } catch (error) {
        status.textContent = error.message;
        button.disabled = false;
      }
    });
  }

  // The player's keys, as transcribers' tools have them; they work while typing too. By
  // the key's place, not its letter, so a Kazakh or Russian layout presses the same keys.
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
  const SKIP_S = 3;
  function playerKey(e) {
    if (!media || !(e.ctrlKey || e.metaKey) || e.altKey) return false;
    const speed = SPEEDS.indexOf(media.playbackRate);
    switch (e.code) {
      case "Space":
        if (media.paused) media.play().catch(() => {}); else media.pause();
        return true;
      case "Comma": seek(Math.max(0, media.currentTime - SKIP_S)); return true;
      case "Period": seek(Math.min(media.duration || Infinity, media.currentTime + SKIP_S)); return true;
      case "BracketLeft":
      case "BracketRight": {
        const next = e.code === "BracketLeft" ? Math.max(0, speed - 1) : Math.min(SPEEDS.length - 1, speed + 1);
        media.playbackRate = SPEEDS[speed === -1 ? 2 : next];
        say(`${t("speed")} ${media.playbackRate}×`);
        return true;
      }
      default: return false;
    }
  }

  function historyKey(e) {
    const field = e.target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName);
    // A field's own undo; none where the page offers no correction.
    if (field || !(e.ctrlKey || e.metaKey) || e.altKey || !undoButton) return false;
    if (e.code === "KeyZ" && !e.shiftKey && !undoButton.disabled) { step("undo"); return true; }
    if ((e.code === "KeyY" || (e.code === "KeyZ" && e.shiftKey)) && !redoButton.disabled) {
      step("redo");
      return true;
    }
    return false;
  }

  // Rename in place: the label becomes a text field; Enter saves everywhere, Escape cancels.
  function rename(button) {
    if (!canEdit) return;
    const label = button.dataset.speaker;
    const input = document.createElement("input");
    input.className = "speaker-input";
    input.value = button.textContent.trim();
    input.setAttribute("aria-label", t("rename_prompt"));
    input.maxLength = 100;
    button.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (keep) => {
      if (done) return;
      done = true;
      input.replaceWith(button);
      const name = input.value.trim();
      if (!keep || name === button.textContent.trim()) { button.focus(); return; }
      await nameSpeaker(label, name);
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); finish(true); }
      if (e.key === "Escape") { e.preventDefault(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
  }

  // Names a speaker everywhere (labels, exports), then refreshes the passages' lists.
  async function nameSpeaker(label, name) {
    try {
      const saved = await api("PATCH", `${base}/speakers/${encodeURIComponent(label)}`, { name });
      const selector = `.speaker-name[data-speaker="${CSS.escape(label)}"]`;
      // A cleared name shows the speaker's number in the page's language ("Спикер 1").
      const untitled = root.querySelector(`.speakers ${selector}`)?.dataset.untitled;
      for (const el of root.querySelectorAll(selector)) {
        el.textContent = saved.name || untitled || saved.label;
      }
      root.querySelector(`.speaker-suggestion:has([data-speaker="${CSS.escape(label)}"])`)?.remove();
      say(t("saved"));
    } catch (error) { say(`${t("save_failed")}: ${error.message}`); }
    await refresh();  // the speaker lists of the passages show the new name too
    root.querySelector(`.speakers .speaker-name[data-speaker="${CSS.escape(label)}"]`)?.focus();
  }

  function followProgress() {
    const bar = document.getElementById("job-progress");
    if (!bar) return;
    const place = document.getElementById("job-queue");
    let asked = 0;
    const source = new EventSource(`${base}/events`);
    source.addEventListener("status", async (e) => {
      const state = JSON.parse(e.data);
      bar.value = state.progress;
      if (place && state.status !== "queued") place.hidden = true;
      else if (place && Date.now() - asked > 5000) {  // the place moves as others finish
        asked = Date.now();
        const job = await api("GET", base).catch(() => null);
        if (job?.queue_position) {
          let text = t("queue_place").replace("%(n)s", job.queue_position);
          if (job.estimated_wait_s !== null) {  // whole minutes, at least 1 (view.wait_minutes)
            const minutes = Math.max(1, Math.ceil(job.estimated_wait_s / 60));
            text += "; " + t("queue_wait").replace("%(minutes)s", minutes);
          }
          place.textContent = text;
          place.hidden = false;
        }
      }
      if (!statuses.active.includes(state.status)) { source.close(); location.reload(); }
    });
    source.addEventListener("timeout", () => { source.close(); followProgress(); });
  }

  // Read-only links: made with their validity, listed with how often each was opened,
  // revoked in place. The address is shown once, when made (only its hash is kept).
  const share = document.getElementById("share");
  async function listLinks() {
    const list = document.getElementById("share-links");
    const { links } = await api("GET", `${base}/links`);
    list.replaceChildren(...links.map((link) => {
      const item = document.createElement("li");
      const until = new Date(link.expires_at).toLocaleString(document.documentElement.lang);
      item.textContent = link.revoked_at
        ? `${t("link_revoked")} · ${t("link_opened")}: ${link.views}`
        : `${t("link_until")} ${until} · ${t("link_opened")}: ${link.views} `;
      if (!link.revoked_at) {
        const revoke = document.createElement("button");
        revoke.type = "button";
        revoke.textContent = t("revoke");
        revoke.addEventListener("click", async () => {
          await api("DELETE", `${base}/links/${link.id}`);
          await listLinks();
        });
        item.append(revoke);
      }
      return item;
    }));
  }
  if (share) {
    share.addEventListener("toggle", () => { if (share.open) listLinks().catch(() => {}); });
    document.getElementById("share-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = e.target;
      try {
        const link = await api("POST", `${base}/links`, {
          hours: parseInt(form.hours.value, 10), with_audio: form.with_audio.checked,
        });
        document.getElementById("share-url").value = link.url;
        document.getElementById("share-made").hidden = false;
        await listLinks();
      } catch (error) { say(error.message); }
    });
    document.getElementById("share-copy").addEventListener("click", async () => {
      const field = document.getElementById("share-url");
      field.select();
      try { await navigator.clipboard.writeText(field.value); say(t("copied")); } catch (e) { /* selected */ }
    });
  }

  // Opened from a search hit (?t=seconds): the passage said then, in view, and the player there.
  function openAt() {
    const at = parseFloat(new URLSearchParams(location.search).get("t"));
    if (!Number.isFinite(at)) return;
    if (media) media.currentTime = at;
    const passages = [...root.querySelectorAll(".segment")];
    const here = passages.filter((li) => parseFloat(li.dataset.start) <= at + 0.01).pop();
    if (!here) return;
    here.classList.add("found");
    here.scrollIntoView({ block: "center" });
    here.querySelector(".text")?.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", () => {
    rediarize();
    recognizeAgain();
    indexWords();
    followProgress();
    openAt();
    if (media) {
      media.addEventListener("play", tick);
      media.addEventListener("seeked", highlight);
      media.addEventListener("timeupdate", highlight);
    }
    root.addEventListener("click", (e) => {
      const word = e.target.closest(".w");
      if (word && !word.parentElement.isContentEditable) {
        seek(parseFloat(word.dataset.start));
        media?.play().catch(() => {});  // "click a word to hear it"
        return;
      }
      // A passage left without text: one click or tap opens it to be written in.
      const empty = e.target.closest(".text");
      if (empty && !empty.isContentEditable && !empty.textContent.trim()) { startEdit(empty); return; }
      const time = e.target.closest("[data-seek]");
      if (time) { seek(parseFloat(time.dataset.seek)); media?.play().catch(() => {}); return; }
      const speaker = e.target.closest(".speaker-name");
      if (speaker) rename(speaker);
      // A remembered voice matched: one click names the speaker with the suggested name.
      const accept = e.target.closest(".accept-name");
      if (accept) nameSpeaker(accept.dataset.speaker, accept.dataset.name);
    });
    root.addEventListener("mousedown", (e) => {
      // Split while editing: keep the caret where it is (no blur before the click).
      const split = e.target.closest(".split");
      const text = split?.closest(".segment").querySelector(".text");
      if (text?.isContentEditable) {
        e.preventDefault();
        split.dataset.used = "true";  // the click that follows must not start editing again
        text.splitHere();
      }
    });
    root.addEventListener("click", (e) => {
      const split = e.target.closest(".split");
      if (split) {
        if (split.dataset.used) { delete split.dataset.used; return; }
        const text = split.closest(".segment").querySelector(".text");
        // A finger has no Ctrl+Enter: it taps the place, then Split again.
        const touch = window.matchMedia("(pointer: coarse)").matches;
        if (!text.isContentEditable) { startEdit(text); say(t(touch ? "split_hint_touch" : "split_hint")); }
        return;
      }
      const merge = e.target.closest(".merge");
      if (merge) correct("POST", segmentUrl(merge.closest(".segment"), "/merge"));
    });
    root.addEventListener("change", (e) => {
      const segment = e.target.closest(".segment");
      if (!segment) return;
      if (e.target.classList.contains("seg-lang")) {
        correct("PATCH", segmentUrl(segment), { language: e.target.value });
      } else if (e.target.classList.contains("seg-speaker")) {
        correct("PATCH", segmentUrl(segment), { speaker: e.target.value });
      }
    });
    root.addEventListener("dblclick", (e) => {
      const text = e.target.closest(".text");
      if (text) startEdit(text);
    });
    root.addEventListener("keydown", (e) => {
      const text = e.target.closest(".text");
      if (text && !text.isContentEditable && e.key === "Enter") { e.preventDefault(); startEdit(text); }
    });
    document.addEventListener("keydown", (e) => {
      if (playerKey(e) || historyKey(e)) e.preventDefault();
    });
    history?.addEventListener("toggle", loadHistory);
    const segments = document.getElementById("segments");
    if (segments && undoButton) {
      undoButton.disabled = segments.dataset.canUndo !== "true";
      redoButton.disabled = segments.dataset.canRedo !== "true";
      undoButton.addEventListener("click", () => step("undo"));
      redoButton.addEventListener("click", () => step("redo"));
    }
    const review = document.getElementById("review");
    review?.addEventListener("click", async () => {
      const on = review.getAttribute("aria-pressed") !== "true";
      try {
        await api(on ? "POST" : "DELETE", `${base}/review`);
        review.setAttribute("aria-pressed", String(on));
        review.textContent = on ? t("reviewed") : t("mark_reviewed");
        say(t("saved"));
      } catch (error) { say(`${t("save_failed")}: ${error.message}`); }
    });
    const consent = document.getElementById("consent");
    consent?.addEventListener("change", async () => {
      try {
        await api("PUT", `${base}/consent`, { evaluation: consent.checked });
        say(t("saved"));
      } catch (error) {
        consent.checked = !consent.checked;
        say(`${t("save_failed")}: ${error.message}`);
      }
    });
    wireFind();
    const filing = document.getElementById("filing-form");
    filing?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { tags: filing.tags.value.split(",").map((tag) => tag.trim()).filter(Boolean) };
      if (filing.workspace_id) body.workspace_id = filing.workspace_id.value ? Number(filing.workspace_id.value) : null;
      const note = document.getElementById("filing-status");
      try {
        await api("PATCH", base, body);
        note.textContent = t("saved");
        location.reload();  // the title block shows where it is filed now
      } catch (error) { note.textContent = `${t("save_failed")}: ${error.message}`; }
    });
    document.getElementById("delete")?.addEventListener("click", async () => {
      if (!window.confirm(t("confirm_delete"))) return;
      await api("DELETE", base);
      location.href = "/app";
    });
  });
})();
