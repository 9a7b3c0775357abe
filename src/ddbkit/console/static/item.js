/* One item: the JSON / DynamoDB JSON editor, save, revert, delete, and duplicate. */

import { clear, el } from "./dom.js";
import { ApiError, api, clearError, enc, errorLine, guarded } from "./api.js";
import { compact } from "./values.js";
import { confirmDialog, crumbs } from "./widgets.js";
import { itemHref, itemKey, keyNamesOf, readOnly, tableInfo } from "./state.js";
import { reload } from "./router.js";

export async function renderItem(main, r, alive) {
  const name = r.table;
  const keyParam = r.params.get("key") || "";
  main.appendChild(crumbs({ text: "Tables", href: "#/tables" }, { text: name, href: `#/table/${enc(name)}` }, { text: "item" }));
  const data = await api("GET", `/api/tables/${enc(name)}/item?key=${enc(keyParam)}`);
  if (!alive()) return;

  let original = data.item;
  const ro = readOnly();
  const texts = { plain: data.plain, typed: data.typed };
  const plain = el("textarea", { class: "editor", spellcheck: "false", "aria-label": "item as plain JSON", readonly: ro });
  const typed = el("textarea", { class: "editor", spellcheck: "false", "aria-label": "item as DynamoDB JSON", readonly: ro });
  plain.value = texts.plain;
  typed.value = texts.typed;
  const tabPlain = el("button", { type: "button", class: "tab", testid: "item-tab-plain", text: "JSON" });
  const tabTyped = el("button", { type: "button", class: "tab", testid: "item-tab-typed", text: "DynamoDB JSON" });
  const message = el("span", { class: "message", testid: "item-message", role: "status" });
  let active = "plain";

  function setTab(which) {
    active = which;
    tabPlain.classList.toggle("active", which === "plain");
    tabTyped.classList.toggle("active", which === "typed");
    tabPlain.setAttribute("aria-selected", String(which === "plain"));
    tabTyped.setAttribute("aria-selected", String(which === "typed"));
    plain.hidden = which !== "plain";
    typed.hidden = which !== "typed";
    plain.toggleAttribute("data-testid", false);
    typed.toggleAttribute("data-testid", false);
    (which === "plain" ? plain : typed).setAttribute("data-testid", "item-editor");
    sizeEditor(which === "plain" ? plain : typed);
  }
  tabPlain.addEventListener("click", () => setTab("plain"));
  tabTyped.addEventListener("click", () => setTab("typed"));

  function setMessage(text, kind) {
    message.textContent = text;
    message.className = `message${kind ? " " + kind : ""}`;
  }

  const save = el("button", { type: "button", class: "btn btn-primary", testid: "item-save", text: "Save" });
  const del = el("button", { type: "button", class: "btn btn-danger-outline", testid: "item-delete", text: "Delete" });
  const dup = el("button", { type: "button", class: "btn", testid: "item-duplicate", text: "Duplicate" });
  const revert = el("button", { type: "button", class: "btn", text: "Revert", title: "throw away the edits" });

  save.addEventListener(
    "click",
    guarded(async () => {
      clearError();
      setMessage("saving…");
      save.disabled = true;
      try {
        const body = { original };
        body[active] = active === "plain" ? plain.value : typed.value;
        const saved = await api("PUT", `/api/tables/${enc(name)}/item`, body);
        if (!alive()) return;
        original = saved.item;
        plain.value = saved.plain;
        typed.value = saved.typed;
        setMessage("saved", "ok");
      } catch (err) {
        const conflict = err instanceof ApiError && err.data.conflict;
        setMessage(conflict ? `not saved: ${errorLine(err)}` : "not saved", "bad");
        if (conflict) {
          message.appendChild(
            el("button", {
              type: "button",
              class: "btn btn-small reload",
              testid: "item-reload",
              text: "Load the stored item (drops your edits)",
              onclick: reload,
            })
          );
        }
        throw err;
      } finally {
        save.disabled = false;
      }
    })
  );
  revert.addEventListener("click", () => {
    plain.value = texts.plain;
    typed.value = texts.typed;
    setMessage("");
  });
  del.addEventListener(
    "click",
    guarded(async () => {
      clearError();
      const ok = await confirmDialog({
        title: "Delete this item?",
        body: el("pre", { class: "key-pre", text: compact({ M: itemKeyFromParam(keyParam) }) }),
        yes: "Delete",
        danger: true,
        testid: "item-delete-dialog",
        yesTestid: "item-delete-confirm",
        noTestid: "item-delete-cancel",
      });
      if (!ok || !alive()) return;
      try {
        await api("DELETE", `/api/tables/${enc(name)}/item`, { original });
      } catch (err) {
        setMessage(err instanceof ApiError && err.data.conflict ? `not deleted: ${errorLine(err)}` : "not deleted", "bad");
        throw err;
      }
      location.hash = `#/table/${enc(name)}`;
    })
  );

  // Duplicate: a new-item editor prefilled with the item (plain JSON first; a DynamoDB JSON
  // tab too, since plain JSON alone cannot say a list is a set or a string is binary), saved
  // with POST. "original" rides along as a hint (the item it was copied from).
  const dupBox = el("section", { class: "panel", hidden: true, testid: "item-new" });
  dup.addEventListener("click", () => {
    clear(dupBox);
    const editors = {
      plain: el("textarea", { class: "editor", spellcheck: "false", "aria-label": "new item as plain JSON" }),
      typed: el("textarea", { class: "editor", spellcheck: "false", "aria-label": "new item as DynamoDB JSON" }),
    };
    editors.plain.value = plain.value;
    editors.typed.value = typed.value;
    const tabs = {
      plain: el("button", { type: "button", class: "tab", testid: "item-new-tab-plain", text: "JSON" }),
      typed: el("button", { type: "button", class: "tab", testid: "item-new-tab-typed", text: "DynamoDB JSON" }),
    };
    let newActive = "plain";
    const setNewTab = (which) => {
      newActive = which;
      for (const k of ["plain", "typed"]) {
        tabs[k].classList.toggle("active", k === which);
        editors[k].hidden = k !== which;
        editors[k].toggleAttribute("data-testid", false);
      }
      editors[which].setAttribute("data-testid", "item-new-editor");
      sizeEditor(editors[which]);
    };
    tabs.plain.addEventListener("click", () => setNewTab("plain"));
    tabs.typed.addEventListener("click", () => setNewTab("typed"));
    const create = el("button", { type: "button", class: "btn btn-primary", testid: "item-new-save", text: "Create item" });
    const cancel = el("button", { type: "button", class: "btn", text: "Cancel", onclick: () => (dupBox.hidden = true) });
    const newMessage = el("span", { class: "message", testid: "item-new-message", role: "status" });
    create.addEventListener(
      "click",
      guarded(async () => {
        clearError();
        create.disabled = true;
        try {
          const body = { original };
          body[newActive] = editors[newActive].value;
          const made = await api("POST", `/api/tables/${enc(name)}/item`, body);
          const info = await tableInfo(name);
          if (!alive()) return;
          location.hash = itemHref(name, itemKey(made.item, keyNamesOf(info)));
        } catch (err) {
          newMessage.textContent = "not created";
          newMessage.className = "message bad";
          throw err;
        } finally {
          create.disabled = false;
        }
      })
    );
    dupBox.append(
      el("h3", { text: "New item (a copy: change its key)" }),
      el("div", { class: "tabs", role: "tablist" }, tabs.plain, tabs.typed),
      editors.plain,
      editors.typed,
      el("div", { class: "actions" }, create, cancel, newMessage)
    );
    dupBox.hidden = false;
    setNewTab("plain");
    editors.plain.focus();
    dupBox.scrollIntoView({ behavior: "smooth", block: "start" });
  });

  const keyObj = itemKeyFromParam(keyParam);
  main.append(
    el(
      "div",
      { class: "view-head" },
      el("h2", {}, el("span", { class: "muted", text: "Item " }), el("span", { class: "mono", text: Object.keys(keyObj).map((k) => `${k} = ${compact(keyObj[k])}`).join(", ") })),
      el("a", { class: "btn", href: `#/table/${enc(name)}`, text: "Back to the table" })
    ),
    el(
      "section",
      { class: "panel item-view", testid: "item-view" },
      el("div", { class: "tabs", role: "tablist" }, tabPlain, tabTyped),
      plain,
      typed,
      el("div", { class: "actions" }, ro ? el("span", { class: "muted small", text: "read-only: editing is off" }) : [save, revert, dup, el("span", { class: "spacer" }), del], message)
    ),
    dupBox
  );
  setTab("plain");
}

function itemKeyFromParam(text) {
  try {
    const obj = JSON.parse(text);
    return obj && typeof obj === "object" ? obj : {};
  } catch (_) {
    return {};
  }
}

function sizeEditor(textarea) {
  const lines = textarea.value.split("\n").length;
  textarea.rows = Math.max(8, Math.min(lines + 1, 40));
}
