// My vocabulary; my time zone; change my password; delete my data: everything of this account goes, after a
// confirmation.
"use strict";
(() => {
  const { api, t } = window.kazru;
  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("password-form");
    const status = document.getElementById("password-status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      try {
        await api("PUT", "/api/v1/me/password", {
          current_password: data.get("current_password"),
          new_password: data.get("new_password"),
        });
        form.reset();
        status.textContent = t("password_changed");
      } catch (error) {
        const key = `password_${error.code}`;
        status.textContent = t(key) === key ? t("save_failed") : t(key);
      }
    });
    const terms = document.getElementById("vocabulary-form");
    const saved = document.getElementById("vocabulary-status");
    terms.addEventListener("submit", async (event) => {
      event.preventDefault();
      const lines = new FormData(terms).get("terms").split("\n");
      try {
        const answer = await api("PUT", "/api/v1/vocabulary", { terms: lines });
        terms.elements.terms.value = answer.terms.join("\n");
        saved.textContent = t("saved");
      } catch (error) {
        saved.textContent = t("vocabulary_refused");
      }
    });
    const zone = document.getElementById("timezone-form");
    zone.addEventListener("submit", async (event) => {
      event.preventDefault();
      const note = document.getElementById("timezone-status");
      try {
        await api("PATCH", "/api/v1/me", { timezone: zone.elements.timezone.value || null });
        note.textContent = t("saved");
      } catch (error) { note.textContent = `${t("save_failed")}: ${error.message}`; }
    });
    document.getElementById("erase").addEventListener("click", async () => {
      if (!window.confirm(t("confirm_erase"))) return;
      await api("DELETE", "/api/v1/me/data");
      location.href = "/login";
    });
  });
})();
