// The admin page's settings: each row saved on its own, through the same API as
// `kazru config set`; "Back to default" removes the stored value.
"use strict";
(() => {
  const { api, t } = window.kazru;
  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll(".setting-form")) {
      const status = form.querySelector(".setting-status");
      const url = `/api/v1/admin/settings/${encodeURIComponent(form.dataset.name)}`;
      const save = async (value) => {
        try {
          const state = await api("PUT", url, { value });
          form.elements.value.value = state.value;
          form.closest("tr").querySelector(".setting-source").textContent =
            state.source === "database" ? t("setting_administrator") : "";
          status.textContent = t("saved");
          if (value === null) window.location.reload();
        } catch (error) {
          status.textContent = error.message;
        }
      };
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        save(form.elements.value.value);
      });
      const reset = form.querySelector(".setting-default");
      if (reset) reset.addEventListener("click", () => save(null));
    }
  });
})();
