// API keys: create (the key is shown once, with a copy button), revoke after a confirmation.
"use strict";
(() => {
  const { api, t } = window.kazru;
  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("new-key").addEventListener("submit", async (e) => {
      e.preventDefault();
      const made = await api("POST", "/api/v1/keys", { name: e.target.name.value });
      document.getElementById("new-key-text").textContent = made.key;
      document.getElementById("new-key-shown").hidden = false;
    });
    document.getElementById("copy-key").addEventListener("click", async (e) => {
      await navigator.clipboard.writeText(document.getElementById("new-key-text").textContent);
      e.target.textContent = t("copied");
    });
    for (const button of document.querySelectorAll(".revoke")) {
      button.addEventListener("click", async () => {
        if (!window.confirm(t("confirm_revoke"))) return;
        await api("DELETE", `/api/v1/keys/${button.dataset.key}`);
        location.reload();
      });
    }
  });
})();
