// Delete my data: everything of this account goes, after a confirmation.
"use strict";
(() => {
  const { api, t } = window.kazru;
  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("erase").addEventListener("click", async () => {
      if (!window.confirm(t("confirm_erase"))) return;
      await api("DELETE", "/api/v1/me/data");
      location.href = "/login";
    });
  });
})();
