// A transcript to read (a shared link, an earlier version): a passage's time plays the
// recording from there.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const media = document.getElementById("media");
  if (!media) return;
  document.querySelector(".read-only-transcript").addEventListener("click", (e) => {
    const time = e.target.closest("[data-seek]");
    if (!time) return;
    media.currentTime = parseFloat(time.dataset.seek);
    media.play();
  });
});
