// Workspaces: create, add members, change roles, remove or leave, rename, delete. Each
// action calls the API and reloads the page; a refusal is shown in the page's language.
"use strict";
(() => {
  const { api, t } = window.kazru;

  async function act(call) {
    const status = document.getElementById("workspace-status");
    try {
      await call();
      location.reload();
    } catch (error) {
      status.textContent = error.message;
      status.hidden = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const create = document.getElementById("new-workspace");
    if (create) create.addEventListener("submit", (e) => {
      e.preventDefault();
      act(() => api("POST", "/api/v1/workspaces", { name: e.target.name.value }));
    });
    for (const card of document.querySelectorAll(".workspace")) {
      const base = `/api/v1/workspaces/${card.dataset.workspace}`;
      const add = card.querySelector(".member-add");
      if (add) add.addEventListener("submit", (e) => {
        e.preventDefault();
        act(() => api("POST", `${base}/members`, { email: add.email.value, role: add.role.value }));
      });
      for (const select of card.querySelectorAll(".member-role")) {
        select.addEventListener("change", () => {
          const user = select.closest("tr").dataset.user;
          act(() => api("PATCH", `${base}/members/${user}`, { role: select.value }));
        });
      }
      for (const button of card.querySelectorAll(".member-remove")) {
        button.addEventListener("click", () => {
          const user = button.closest("tr").dataset.user;
          act(() => api("DELETE", `${base}/members/${user}`));
        });
      }
      const rename = card.querySelector(".workspace-rename");
      if (rename) rename.addEventListener("submit", (e) => {
        e.preventDefault();
        act(() => api("PATCH", base, { name: rename.name.value }));
      });
      const remove = card.querySelector(".workspace-delete");
      if (remove) remove.addEventListener("click", () => {
        if (window.confirm(t("confirm_delete_workspace"))) act(() => api("DELETE", base));
      });
    }
  });
})();
