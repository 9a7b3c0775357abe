/* The tables list, the create-table form, and the delete-table controls. */

import { append, el } from "./dom.js";
import { api, clearError, enc, errorLine, guarded } from "./api.js";
import { fmtBytes, fmtInt, keyText } from "./format.js";
import { field, headRow } from "./widgets.js";
import { readOnly, state, tableInfo } from "./state.js";

export async function renderTables(main, r, alive) {
  const head = el(
    "div",
    { class: "view-head" },
    el("h2", { text: "Tables" }),
    readOnly()
      ? null
      : el("button", {
          type: "button",
          class: "btn btn-primary",
          testid: "create-table-open",
          text: "Create table",
          onclick: () => {
            form.hidden = !form.hidden;
            if (!form.hidden) form.querySelector("input").focus();
          },
        })
  );
  const form = readOnly() ? el("div", { hidden: true }) : createTableForm();
  form.hidden = true;
  const tbody = el("tbody");
  const table = el(
    "table",
    { class: "grid tables", testid: "tables-list" },
    headRow(["Name", "Status", "Keys", "Billing", "Items#", "Size#", "Indexes"]),
    tbody
  );
  const count = el("p", { class: "muted" });
  main.append(head, form, el("section", { class: "panel flush" }, table), count);

  const data = await api("GET", "/api/tables");
  if (!alive()) return;
  const names = data.tables || [];
  count.textContent = names.length === 1 ? "1 table" : `${names.length} tables`;
  if (!names.length) {
    tbody.appendChild(el("tr", {}, el("td", { colspan: 7, class: "muted", text: "No tables yet." })));
    return;
  }
  const rows = names.map((name) => {
    const cells = {
      status: el("td", { class: "muted", text: "…" }),
      keys: el("td"),
      billing: el("td"),
      items: el("td", { class: "num" }),
      size: el("td", { class: "num" }),
      indexes: el("td"),
    };
    const row = el(
      "tr",
      { testid: `table-row-${name}`, class: "clickable" },
      el("td", {}, el("a", { href: `#/table/${enc(name)}`, testid: `table-link-${name}`, class: "strong", text: name })),
      cells.status,
      cells.keys,
      cells.billing,
      cells.items,
      cells.size,
      cells.indexes
    );
    row.addEventListener("click", (event) => {
      if (event.target.closest("a")) return;
      location.hash = `#/table/${enc(name)}`;
    });
    tbody.appendChild(row);
    return { name, cells };
  });
  await Promise.all(
    rows.map(async ({ name, cells }) => {
      try {
        const info = await tableInfo(name, true);
        if (!alive()) return;
        cells.status.className = `status status-${String(info.status).toLowerCase()}`;
        cells.status.textContent = info.status;
        append(cells.keys, [
          el("span", { class: "mono", text: keyText(info.partition_key) }),
          info.sort_key ? el("span", { class: "mono sk", text: ` · ${keyText(info.sort_key)}` }) : null,
        ]);
        cells.billing.textContent =
          info.billing_mode === "PROVISIONED"
            ? `provisioned ${fmtInt(info.read_capacity)}/${fmtInt(info.write_capacity)}`
            : "on demand";
        cells.items.textContent = fmtInt(info.item_count);
        cells.size.textContent = fmtBytes(info.size_bytes);
        const idx = info.indexes || [];
        if (!idx.length) cells.indexes.append(el("span", { class: "muted", text: "–" }));
        idx.forEach((ix) => cells.indexes.append(el("span", { class: "chip", title: `${ix.kind} ${keyText(ix.partition_key)}${ix.sort_key ? " · " + keyText(ix.sort_key) : ""}`, text: `${ix.name} (${ix.kind})` })));
      } catch (err) {
        if (!alive()) return;
        cells.status.textContent = "error";
        cells.status.title = errorLine(err);
      }
    })
  );
}

function typeSelect(testid, withNone) {
  const select = el("select", { testid });
  if (withNone) select.appendChild(el("option", { value: "", text: "—" }));
  for (const [value, label] of [
    ["S", "S (string)"],
    ["N", "N (number)"],
    ["B", "B (binary)"],
  ]) {
    select.appendChild(el("option", { value, text: label }));
  }
  return select;
}

function createTableForm() {
  const name = el("input", { type: "text", testid: "create-table-name", required: true, autocomplete: "off", spellcheck: "false" });
  const pkName = el("input", { type: "text", testid: "create-table-pk-name", autocomplete: "off", spellcheck: "false" });
  const pkType = typeSelect("create-table-pk-type");
  const skName = el("input", { type: "text", testid: "create-table-sk-name", placeholder: "optional", autocomplete: "off", spellcheck: "false" });
  const skType = typeSelect("create-table-sk-type");
  const ttl = el("input", { type: "text", testid: "create-table-ttl", placeholder: "optional", autocomplete: "off", spellcheck: "false" });
  const gsiList = el("div", { class: "gsi-list" });
  const submit = el("button", { type: "submit", class: "btn btn-primary", testid: "create-table-submit", text: "Create" });

  function addGsi() {
    const row = el(
      "div",
      { class: "gsi-row" },
      field("Index name", el("input", { type: "text", class: "gsi-name", autocomplete: "off" })),
      field("Partition key", el("input", { type: "text", class: "gsi-pk-name", autocomplete: "off" })),
      field("Type", typeSelect()),
      field("Sort key", el("input", { type: "text", class: "gsi-sk-name", placeholder: "optional", autocomplete: "off" })),
      field("Type", typeSelect()),
      el("button", { type: "button", class: "btn btn-small", text: "Remove", onclick: () => row.remove() })
    );
    gsiList.appendChild(row);
    row.querySelector("input").focus();
  }

  const form = el(
    "form",
    { class: "panel form", testid: "create-table-form", novalidate: true },
    el("h3", { text: "Create a table" }),
    el("div", { class: "row" }, field("Table name", name)),
    el("div", { class: "row" }, field("Partition key", pkName), field("Type", pkType), field("Sort key", skName), field("Type", skType)),
    el("div", { class: "sub-head" }, el("span", { text: "Global secondary indexes" }), el("button", { type: "button", class: "btn btn-small", testid: "create-table-gsi-add", text: "Add index", onclick: addGsi })),
    gsiList,
    el("div", { class: "row" }, field("TTL attribute", ttl, "optional: epoch seconds")),
    el("div", { class: "actions" }, submit)
  );
  form.addEventListener(
    "submit",
    guarded(async (event) => {
      event.preventDefault();
      clearError();
      const body = {
        name: name.value.trim(),
        partition_key: { name: pkName.value.trim(), type: pkType.value },
        sort_key: skName.value.trim() ? { name: skName.value.trim(), type: skType.value } : null,
        indexes: [],
        ttl: ttl.value.trim() || null,
      };
      if (!body.name) throw new Error("the table needs a name");
      if (!body.partition_key.name) throw new Error("the table needs a partition key");
      for (const row of gsiList.querySelectorAll(".gsi-row")) {
        const selects = row.querySelectorAll("select");
        const ixName = row.querySelector(".gsi-name").value.trim();
        const ixPk = row.querySelector(".gsi-pk-name").value.trim();
        const ixSk = row.querySelector(".gsi-sk-name").value.trim();
        if (!ixName && !ixPk) continue;
        if (!ixName || !ixPk) throw new Error("each index needs a name and a partition key");
        body.indexes.push({
          name: ixName,
          partition_key: { name: ixPk, type: selects[0].value },
          sort_key: ixSk ? { name: ixSk, type: selects[1].value } : null,
        });
      }
      submit.disabled = true;
      try {
        const data = await api("POST", "/api/tables", body);
        if (data && data.info) state.infos.set(data.info.name, data.info);
        location.hash = `#/table/${enc(body.name)}`;
      } finally {
        submit.disabled = false;
      }
    })
  );
  return form;
}

export function deleteTableControls(name) {
  const input = el("input", { type: "text", testid: "delete-table-confirm-input", placeholder: name, autocomplete: "off", spellcheck: "false" });
  const submit = el("button", { type: "button", class: "btn btn-danger", testid: "delete-table-submit", text: "Delete table", disabled: true });
  const box = el(
    "div",
    { class: "delete-box", hidden: true },
    el("span", { class: "small" }, "Type ", el("strong", { class: "mono", text: name }), " to delete it:"),
    input,
    submit
  );
  input.addEventListener("input", () => {
    submit.disabled = input.value !== name;
  });
  submit.addEventListener(
    "click",
    guarded(async () => {
      if (input.value !== name) return;
      clearError();
      submit.disabled = true;
      try {
        await api("DELETE", `/api/tables/${enc(name)}`, { confirm: input.value });
        state.infos.delete(name);
        location.hash = "#/tables";
      } finally {
        submit.disabled = input.value !== name;
      }
    })
  );
  const open = el("button", {
    type: "button",
    class: "btn btn-danger-outline",
    testid: "delete-table-open",
    text: "Delete…",
    onclick: () => {
      box.hidden = !box.hidden;
      if (!box.hidden) input.focus();
    },
  });
  return el("span", { class: "delete-wrap" }, open, box);
}
