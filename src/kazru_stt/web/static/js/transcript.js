// The transcript view: the word being spoken is highlighted, a click on a word seeks there,
// passages are edited in place (Enter saves, Escape cancels, one step of undo), speakers are
// renamed in place and everywhere at once, the job is deleted after a confirmation.
"use strict";
(() => {
  const { api, t } = window.kazru;
  const root = document.getElementById("transcript");
  const jobId = root.dataset.job;
  const base = `/api/v1/transcriptions/${jobId}`;
  const media = document.getElementById("media");
  const statusLine = document.getElementById("status-line");
  const undoButton = document.getElementById("undo");
  let words = [];
  let current = null;
  const undoKey = `kazru-undo-${jobId}`;  // per tab; survives a reload
  let lastHTML = null;  // the words (with times) of the last edited passage, this page only

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

  async function save(segment, text, previous) {
    const index = segment.dataset.index;
    try {
      const saved = await api("PATCH", `${base}/segments/${index}`, { text });
      segment.querySelector(".text").textContent = saved.text;
      say(t("saved"));
      return true;
    } catch (error) {
      segment.querySelector(".text").innerHTML = previous;
      say(`${t("save_failed")}: ${error.message}`);
      return false;
    }
  }

  function startEdit(textEl) {
    if (textEl.isContentEditable) return;
    const segment = textEl.closest(".segment");
    const previousHTML = textEl.innerHTML;
    const previousText = textEl.textContent;
    textEl.textContent = previousText;
    textEl.contentEditable = "true";
    textEl.focus();
    const finish = async (keep) => {
      textEl.removeEventListener("keydown", onKey);
      textEl.removeEventListener("blur", onBlur);
      textEl.contentEditable = "false";
      const text = textEl.textContent.trim();
      if (!keep || text === previousText.trim()) { textEl.innerHTML = previousHTML; return; }
      if (await save(segment, text, previousHTML)) {
        sessionStorage.setItem(undoKey, JSON.stringify({
          index: segment.dataset.index, text: previousText.trim(),
        }));
        lastHTML = previousHTML;
        undoButton.disabled = false;
        indexWords();
      }
    };
    const onKey = (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); finish(true); }
      if (e.key === "Escape") { e.preventDefault(); finish(false); }
    };
    const onBlur = () => finish(true);
    textEl.addEventListener("keydown", onKey);
    textEl.addEventListener("blur", onBlur);
  }

  async function undo() {
    const last = JSON.parse(sessionStorage.getItem(undoKey) || "null");
    const segment = last && root.querySelector(`.segment[data-index="${last.index}"]`);
    if (!segment) { say(t("nothing_to_undo")); return; }
    sessionStorage.removeItem(undoKey);
    undoButton.disabled = true;
    const html = segment.querySelector(".text").innerHTML;
    if (await save(segment, last.text, html)) {
      if (lastHTML) segment.querySelector(".text").innerHTML = lastHTML;  // words come back
      lastHTML = null;
      indexWords();
    }
  }

  // Rename in place: the label becomes a text field; Enter saves everywhere, Escape cancels.
  function rename(button) {
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
      try {
        const saved = await api("PATCH", `${base}/speakers/${encodeURIComponent(label)}`, { name });
        for (const el of root.querySelectorAll(`.speaker-name[data-speaker="${CSS.escape(label)}"]`)) {
          el.textContent = saved.name || saved.label;
        }
        say(t("saved"));
      } catch (error) { say(`${t("save_failed")}: ${error.message}`); }
      button.focus();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); finish(true); }
      if (e.key === "Escape") { e.preventDefault(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
  }

  function followProgress() {
    const bar = document.getElementById("job-progress");
    if (!bar) return;
    const source = new EventSource(`${base}/events`);
    source.addEventListener("status", (e) => {
      const state = JSON.parse(e.data);
      bar.value = state.progress;
      if (!["queued", "processing"].includes(state.status)) { source.close(); location.reload(); }
    });
    source.addEventListener("timeout", () => { source.close(); followProgress(); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    indexWords();
    followProgress();
    if (media) {
      media.addEventListener("play", tick);
      media.addEventListener("seeked", highlight);
      media.addEventListener("timeupdate", highlight);
    }
    root.addEventListener("click", (e) => {
      const word = e.target.closest(".w");
      if (word && !word.parentElement.isContentEditable) {
        seek(parseFloat(word.dataset.start));
        return;
      }
      const time = e.target.closest("[data-seek]");
      if (time) { seek(parseFloat(time.dataset.seek)); media?.play().catch(() => {}); return; }
      const speaker = e.target.closest(".speaker-name");
      if (speaker) rename(speaker);
    });
    root.addEventListener("dblclick", (e) => {
      const text = e.target.closest(".text");
      if (text) startEdit(text);
    });
    root.addEventListener("keydown", (e) => {
      const text = e.target.closest(".text");
      if (text && !text.isContentEditable && e.key === "Enter") { e.preventDefault(); startEdit(text); }
    });
    if (undoButton) {
      undoButton.disabled = !sessionStorage.getItem(undoKey);
      undoButton.addEventListener("click", undo);
    }
    document.getElementById("delete")?.addEventListener("click", async () => {
      if (!window.confirm(t("confirm_delete"))) return;
      await api("DELETE", base);
      location.href = "/app";
    });
  });
})();
