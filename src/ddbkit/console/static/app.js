/* ddbkit console: the browser page. Plain ES2020, no framework, no build step.
 *
 * Every server string reaches the DOM through textContent / createElement (never innerHTML),
 * numbers stay the server's strings (never a JS Number), and there are no inline handlers or
 * style attributes (the server's CSP forbids them).
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------- small DOM helpers

  const SVG_NS = "http://www.w3.org/2000/svg";

  /** el("div", {class: "x", testid: "y", text: "z", onclick: fn}, child, [children], "text") */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.setAttribute("class", value);
      else if (key === "testid") node.setAttribute("data-testid", value);
      else if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function $(id) {
    return document.getElementById(id);
  }

  // ---------------------------------------------------------------- errors

  function showError(message) {
    $("error-text").textContent = String(message || "something went wrong");
    $("error").hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
    $("error-text").textContent = "";
  }

  function errorLine(err) {
    if (err instanceof ApiError) return err.message;
    if (err && err.name === "TypeError") return "cannot reach the ddbkit console server";
    return (err && err.message) || String(err);
  }

  /** Wrap an async event handler: any failure becomes one line in the error bar. */
  function guarded(fn) {
    return async function (event) {
      try {
        await fn.call(this, event);
      } catch (err) {
        showError(errorLine(err));
      }
    };
  }

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, data) {
      const line = data && typeof data.error === "string" ? data.error : `HTTP ${status}`;
      super(line);
      this.name = "ApiError";
      this.status = status;
      this.data = data || {};
    }
  }

  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = { error: response.ok ? "the server sent a reply that is not JSON" : `HTTP ${response.status}` };
        if (response.ok) throw new ApiError(response.status, data);
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  /** Fetch a file (GET, or POST with a JSON body) and hand it to the browser as a download. */
  async function download(method, path, body, fallbackName) {
    const init = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) {
      let data = null;
      try {
        data = await response.json();
      } catch (_) {
        data = null;
      }
      throw new ApiError(response.status, data);
    }
    const blob = await response.blob();
    const name = filenameFrom(response.headers.get("Content-Disposition")) || fallbackName;
    saveBlob(blob, name);
    return name;
  }

  function filenameFrom(disposition) {
    if (!disposition) return null;
    const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(disposition);
    if (star) {
      try {
        return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ""));
      } catch (_) {
        /* fall through */
      }
    }
    const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
    return plain ? plain[1].trim() : null;
  }

  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: name || "download", class: "hidden-link" });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  const enc = encodeURIComponent;

  // ---------------------------------------------------------------- formatting

  function fmtInt(n) {
    if (n === null || n === undefined || n === "") return "–";
    if (typeof n === "number") return n.toLocaleString("en-US");
    return String(n);
  }

  function fmtBytes(n) {
    if (n === null || n === undefined) return "–";
    if (typeof n !== "number") return String(n);
    if (n < 1024) return `${n} B`;
    const units = ["KB", "MB", "GB", "TB"];
    let value = n;
    let unit = "B";
    for (const u of units) {
      if (value < 1024) break;
      value /= 1024;
      unit = u;
    }
    return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
  }

  function fmtPct(x) {
    if (typeof x !== "number") return "–";
    const pct = x * 100;
    return `${pct >= 99.95 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
  }

  function keyText(key) {
    return key ? `${key.name} (${key.type})` : "–";
  }

  function shorten(text, max) {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  /** Compact JSON-like text of a typed value: numbers and strings stay as the server sent them. */
  function compact(value) {
    const type = typeOf(value);
    const v = type ? value[type] : value;
    switch (type) {
      case "S":
        return JSON.stringify(v);
      case "N":
        return String(v);
      case "B":
        return `bin:${shorten(String(v), 12)}`;
      case "BOOL":
        return v ? "true" : "false";
      case "NULL":
        return "null";
      case "SS":
        return `<<${v.map((s) => JSON.stringify(s)).join(", ")}>>`;
      case "NS":
        return `<<${v.join(", ")}>>`;
      case "BS":
        return `<<${v.map((b) => `bin:${shorten(String(b), 12)}`).join(", ")}>>`;
      case "M":
        return `{${Object.keys(v)
          .map((k) => `${JSON.stringify(k)}: ${compact(v[k])}`)
          .join(", ")}}`;
      case "L":
        return `[${v.map(compact).join(", ")}]`;
      default:
        return JSON.stringify(value);
    }
  }

  function typeOf(value) {
    if (!value || typeof value !== "object") return null;
    const keys = Object.keys(value);
    return keys.length === 1 ? keys[0] : null;
  }

  function tag(text) {
    return el("span", { class: `tag tag-${text}`, text });
  }

  /** One grid cell's content for a typed attribute value. */
  function renderValue(value) {
    const type = typeOf(value);
    const v = type ? value[type] : value;
    switch (type) {
      case "S":
        return el("span", { class: "v-s", text: shorten(String(v), 60), title: String(v).length > 60 ? shorten(String(v), 1000) : null });
      case "N":
        return el("span", { class: "v-n", text: String(v) });
      case "B":
        return el("span", { class: "v-b" }, tag("bin"), el("span", { text: shorten(String(v), 16) }));
      case "BOOL":
        return el("span", { class: `v-bool v-${v ? "true" : "false"}`, text: v ? "true" : "false" });
      case "NULL":
        return el("span", { class: "v-null", text: "null" });
      case "SS":
      case "NS":
      case "BS": {
        const shown = v.slice(0, 8);
        return el(
          "span",
          { class: "v-set" },
          tag("set"),
          shown.map((s) =>
            el("span", {
              class: `chip${type === "NS" ? " num" : ""}`,
              text: type === "BS" ? shorten(String(s), 12) : String(s),
            })
          ),
          v.length > shown.length ? el("span", { class: "more", text: `+${v.length - shown.length}` }) : null
        );
      }
      case "M":
      case "L":
        return el(
          "span",
          { class: "v-doc" },
          tag(type === "M" ? "map" : "list"),
          el("span", { class: "doc", text: shorten(compact(value), 70) })
        );
      default:
        return el("span", { text: JSON.stringify(value) });
    }
  }

  // ---------------------------------------------------------------- in-page dialog

  /**
   * A modal confirm in the page (never window.confirm). Resolves true on yes, false on no.
   * opts: {title, body: node|string|array, yes, no, testid, yesTestid, noTestid, danger}
   */
  function confirmDialog(opts) {
    return new Promise((resolve) => {
      const overlay = $("overlay");
      clear(overlay);
      const done = (answer) => {
        overlay.hidden = true;
        clear(overlay);
        document.removeEventListener("keydown", onKey);
        resolve(answer);
      };
      const onKey = (event) => {
        if (event.key === "Escape") done(false);
      };
      const yes = el("button", {
        type: "button",
        class: opts.danger ? "btn btn-danger" : "btn btn-primary",
        testid: opts.yesTestid,
        text: opts.yes || "OK",
        onclick: () => done(true),
      });
      const box = el(
        "div",
        { class: "dialog", role: "dialog", "aria-modal": "true", testid: opts.testid },
        el("h3", { text: opts.title || "Are you sure?" }),
        el("div", { class: "dialog-body" }, opts.body || null),
        el(
          "div",
          { class: "dialog-actions" },
          el("button", {
            type: "button",
            class: "btn",
            testid: opts.noTestid,
            text: opts.no || "Cancel",
            onclick: () => done(false),
          }),
          yes
        )
      );
      overlay.appendChild(box);
      overlay.hidden = false;
      document.addEventListener("keydown", onKey);
      yes.focus();
    });
  }

  // ---------------------------------------------------------------- state

  const state = {
    session: null,
    infos: new Map(), // table name -> info (cached for the key names and indexes)
  };

  function readOnly() {
    return !!(state.session && state.session.read_only);
  }

  async function tableInfo(name, fresh) {
    if (!fresh && state.infos.has(name)) return state.infos.get(name);
    const data = await api("GET", `/api/tables/${enc(name)}`);
    state.infos.set(name, data.info);
    return data.info;
  }

  function keyNamesOf(info) {
    const names = [info.partition_key.name];
    if (info.sort_key) names.push(info.sort_key.name);
    return names;
  }

  function itemKey(item, keyNames) {
    const key = {};
    for (const name of keyNames) if (item[name] !== undefined) key[name] = item[name];
    return key;
  }

  function itemHref(table, key) {
    return `#/table/${enc(table)}/item?key=${enc(JSON.stringify(key))}`;
  }

  // ---------------------------------------------------------------- routing

  let view = null; // {route, update(route) -> bool}
  let renderToken = 0;

  function parseHash() {
    let hash = location.hash.replace(/^#/, "");
    if (!hash || hash === "/") hash = "/tables";
    const q = hash.indexOf("?");
    const path = q >= 0 ? hash.slice(0, q) : hash;
    const params = new URLSearchParams(q >= 0 ? hash.slice(q + 1) : "");
    const parts = path.split("/").filter(Boolean).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch (_) {
        return p;
      }
    });
    return { parts, params, path };
  }

  function route() {
    const r = parseHash();
    const [head, name, sub] = r.parts;
    let kind = "notfound";
    if (head === "tables" && !name) kind = "tables";
    else if (head === "sql" && !name) kind = "sql";
    else if (head === "table" && name && !sub) kind = "table";
    else if (head === "table" && name && sub === "item") kind = "item";
    else if (head === "table" && name && sub === "anatomy") kind = "anatomy";
    r.kind = kind;
    r.table = name;
    document.querySelectorAll(".nav a").forEach((a) => a.classList.remove("active"));
    const navId = kind === "sql" ? "nav-sql" : "nav-tables";
    $(navId).classList.add("active");

    if (view && view.update && view.update(r)) return;
    clearError();
    const token = ++renderToken;
    const main = clear($("main"));
    const alive = () => token === renderToken;
    view = { route: r };
    const renderers = {
      tables: renderTables,
      sql: renderSql,
      table: renderTable,
      item: renderItem,
      anatomy: renderAnatomy,
      notfound: renderNotFound,
    };
    Promise.resolve()
      .then(() => renderers[kind](main, r, alive))
      .catch((err) => {
        if (alive()) showError(errorLine(err));
      });
    window.scrollTo(0, 0);
  }

  function renderNotFound(main) {
    main.appendChild(
      el("section", { class: "panel" }, el("h2", { text: "Nothing here" }), el("p", {}, el("a", { href: "#/tables", text: "Back to the tables" })))
    );
  }

  function crumbs(...parts) {
    const nav = el("div", { class: "crumbs" });
    parts.forEach((part, i) => {
      if (i) nav.appendChild(el("span", { class: "sep", text: "/" }));
      nav.appendChild(part.href ? el("a", { href: part.href, text: part.text }) : el("span", { text: part.text }));
    });
    return nav;
  }

  // ---------------------------------------------------------------- Tables

  async function renderTables(main, r, alive) {
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

  /** A header row; names ending in "#" are numeric columns (right-aligned). */
  function headRow(names) {
    return el(
      "thead",
      {},
      el("tr", {}, names.map((h) => (h.endsWith("#") ? el("th", { class: "num", text: h.slice(0, -1) }) : el("th", { text: h }))))
    );
  }

  function field(label, control, hint) {
    return el("label", { class: "field" }, el("span", { class: "label", text: label }), control, hint ? el("span", { class: "hint", text: hint }) : null);
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

  // ---------------------------------------------------------------- a table

  function infoList(pairs) {
    return el(
      "dl",
      { class: "info" },
      pairs.filter(Boolean).map(([k, v]) => [el("dt", { text: k }), el("dd", {}, v === null || v === undefined || v === "" ? "–" : v)])
    );
  }

  function tableInfoBlock(info) {
    const est = info.full_scan_estimate;
    const idx = info.indexes || [];
    return el(
      "section",
      { class: "panel", testid: "table-info" },
      el(
        "div",
        { class: "info-grid" },
        infoList([
          ["Status", el("span", { class: `status status-${String(info.status).toLowerCase()}`, text: info.status })],
          ["Partition key", el("span", { class: "mono", text: keyText(info.partition_key) })],
          ["Sort key", info.sort_key ? el("span", { class: "mono", text: keyText(info.sort_key) }) : "–"],
          ["Billing", info.billing_mode === "PROVISIONED" ? `provisioned, ${fmtInt(info.read_capacity)} RCU / ${fmtInt(info.write_capacity)} WCU` : "on demand"],
        ]),
        infoList([
          ["Items", el("span", { class: "num", text: fmtInt(info.item_count) })],
          ["Size", fmtBytes(info.size_bytes)],
          ["Full scan", est ? `≈ ${fmtInt(est.read_capacity_units)} RCU, ${fmtInt(est.pages)} page${est.pages === 1 ? "" : "s"}` : "–"],
          ["Created", info.created_at ? String(info.created_at) : "–"],
        ]),
        infoList([
          ["TTL", info.ttl_attribute ? `${info.ttl_attribute} (${info.ttl_status || "?"})` : info.ttl_status ? String(info.ttl_status).toLowerCase() : "off"],
          ["Stream", info.stream_enabled ? `on (${info.stream_view_type || "?"})` : "off"],
          ["Deletion protection", info.deletion_protection ? "on" : "off"],
        ])
      ),
      idx.length
        ? el(
            "table",
            { class: "grid compact indexes" },
            headRow(["Index", "Kind", "Partition key", "Sort key", "Projection", "Status", "Items#", "Size#"]),
            el(
              "tbody",
              {},
              idx.map((ix) =>
                el(
                  "tr",
                  {},
                  el("td", { class: "strong", text: ix.name }),
                  el("td", { text: ix.kind }),
                  el("td", { class: "mono", text: keyText(ix.partition_key) }),
                  el("td", { class: "mono", text: keyText(ix.sort_key) }),
                  el("td", {
                    text:
                      ix.projection +
                      (ix.projected_attributes && ix.projected_attributes.length ? ` (${ix.projected_attributes.join(", ")})` : ""),
                  }),
                  el("td", { text: ix.status || "–" }),
                  el("td", { class: "num", text: fmtInt(ix.item_count) }),
                  el("td", { class: "num", text: fmtBytes(ix.size_bytes) })
                )
              )
            )
          )
        : el("p", { class: "muted small", text: "No secondary indexes." })
    );
  }

  function planBlock(container, plan, text) {
    clear(container);
    container.hidden = false;
    if (!plan) {
      container.appendChild(el("pre", { class: "plan-text", text: text || "" }));
      return;
    }
    const est = plan.estimate;
    append(container, [
      el(
        "div",
        { class: "plan-head" },
        el("span", { class: `op op-${String(plan.operation).toLowerCase()}`, testid: "plan-operation", text: plan.operation }),
        el("span", { class: "plan-on", text: "on" }),
        el("span", { class: "mono", testid: "plan-index", text: plan.index || "the table" }),
        el("span", { class: "plan-cost", testid: "plan-cost", text: plan.cost || "" })
      ),
      infoList([
        ["Key condition", plan.key_condition ? el("code", { text: plan.key_condition }) : "–"],
        ["Filter", plan.filter ? el("code", { text: plan.filter }) : "–"],
        plan.attributes && plan.attributes.length ? ["Attributes", plan.attributes.join(", ")] : null,
        ["Why", plan.reasons && plan.reasons.length ? el("ul", { class: "reasons" }, plan.reasons.map((x) => el("li", { text: x }))) : "–"],
        ["Estimate", est ? `≈ ${fmtInt(est.read_capacity_units)} RCU, ${fmtInt(est.pages)} page${est.pages === 1 ? "" : "s"}` : "–"],
      ]),
      text ? el("details", { class: "plan-details" }, el("summary", { text: "Plan text" }), el("pre", { class: "plan-text", text })) : null,
    ]);
  }

  function queryParams(r) {
    const limit = r.params.get("limit");
    return {
      where: r.params.get("where") || "",
      index: r.params.get("index") || "",
      limit: ["25", "50", "100", "250"].includes(limit) ? limit : "50",
    };
  }

  function tableHash(name, q) {
    const p = new URLSearchParams();
    if (q.where) p.set("where", q.where);
    if (q.index) p.set("index", q.index);
    if (q.limit && q.limit !== "50") p.set("limit", q.limit);
    const s = p.toString();
    return `#/table/${enc(name)}${s ? "?" + s : ""}`;
  }

  async function renderTable(main, r, alive) {
    const name = r.table;
    const q = queryParams(r);
    main.appendChild(crumbs({ text: "Tables", href: "#/tables" }, { text: name }));
    const info = await tableInfo(name, true);
    if (!alive()) return;

    // --- head: title, links, delete
    const exportPanel = exportBlock(name, () => ({ where: whereInput.value, index: indexSelect.value }));
    const head = el(
      "div",
      { class: "view-head" },
      el("h2", { text: name }),
      el(
        "div",
        { class: "head-actions" },
        el("a", { class: "btn", href: `#/table/${enc(name)}/anatomy`, testid: "anatomy-link", text: "Anatomy" }),
        el("button", {
          type: "button",
          class: "btn",
          testid: "export-link",
          text: "Export",
          onclick: () => {
            exportPanel.scrollIntoView({ behavior: "smooth", block: "center" });
            exportPanel.querySelector("select").focus();
          },
        }),
        readOnly() ? null : deleteTableControls(name)
      )
    );

    // --- query bar
    const whereInput = el("input", { type: "text", class: "where", testid: "where-input", placeholder: "where…  e.g. status = 'active' and age > 30", spellcheck: "false", autocomplete: "off", value: q.where });
    const indexSelect = el("select", { testid: "index-select" }, el("option", { value: "", text: "auto" }), (info.indexes || []).map((ix) => el("option", { value: ix.name, text: ix.name })));
    indexSelect.value = q.index;
    const pageSize = el("select", { testid: "page-size", title: "page size" }, ["25", "50", "100", "250"].map((n) => el("option", { value: n, text: `${n} / page` })));
    pageSize.value = q.limit;
    const explainButton = el("button", { type: "button", class: "btn", testid: "explain-button", text: "Explain" });
    const runButton = el("button", { type: "submit", class: "btn btn-primary", testid: "run-button", text: "Run" });
    const bar = el("form", { class: "query-bar", novalidate: true }, whereInput, indexSelect, pageSize, explainButton, runButton);
    const explainOut = el("div", { class: "panel plan", testid: "explain-output", hidden: true });

    // --- grid + pager
    const gridWrap = el("div", { class: "grid-wrap" });
    const prev = el("button", { type: "button", class: "btn btn-small", testid: "page-prev", text: "‹ Prev", disabled: true });
    const next = el("button", { type: "button", class: "btn btn-small", testid: "page-next", text: "Next ›", disabled: true });
    const pageNumber = el("span", { class: "page-number", testid: "page-number", text: "page 1" });
    const pageNote = el("span", { class: "muted small" });
    const pager = el("div", { class: "pager" }, prev, pageNumber, next, pageNote);

    main.append(head, tableInfoBlock(info), bar, explainOut, el("section", { class: "panel flush" }, pager, gridWrap), exportPanel);

    // paging state: the stack of start cursors used, for Prev
    const paging = { starts: [null], page: 0, next: null, confirmed: false, query: null, busy: false, seq: 0 };
    // seq: bumped by every new run, so a slow reply to an older run never overwrites a newer one

    function current() {
      return { where: whereInput.value.trim(), index: indexSelect.value, limit: pageSize.value };
    }

    async function explain(qq, seq) {
      const data = await api("GET", `/api/tables/${enc(name)}/explain?where=${enc(qq.where)}&index=${enc(qq.index)}`);
      if (!alive() || (seq !== undefined && seq !== paging.seq)) return null;
      planBlock(explainOut, data.plan, data.text);
      return data;
    }

    async function loadPage() {
      const seq = paging.seq;
      const fresh = () => alive() && seq === paging.seq;
      const qq = paging.query;
      const start = paging.starts[paging.page];
      let url = `/api/tables/${enc(name)}/items?where=${enc(qq.where)}&index=${enc(qq.index)}&limit=${enc(qq.limit)}`;
      if (start) url += `&start=${enc(start)}`;
      if (paging.confirmed) url += "&confirm=1";
      paging.busy = true;
      prev.disabled = next.disabled = true;
      gridWrap.classList.add("loading");
      try {
        let data;
        try {
          data = await api("GET", url);
        } catch (err) {
          if (err instanceof ApiError && err.status === 428 && err.data.confirm === "scan") {
            if (!fresh()) return;
            const ok = await askScan(err.data);
            if (!ok || !fresh()) return false;
            paging.confirmed = true;
            data = await api("GET", `${url}&confirm=1`);
          } else throw err;
        }
        if (!fresh()) return;
        paging.next = data.cursor || null;
        renderGrid(gridWrap, name, data);
        pageNote.textContent = `${data.items.length} item${data.items.length === 1 ? "" : "s"}, ${fmtInt(data.scanned_count)} read`;
        if (data.plan && explainOut.hidden) planBlock(explainOut, data.plan, null);
        return true;
      } finally {
        if (fresh()) {
          paging.busy = false;
          gridWrap.classList.remove("loading");
          pageNumber.textContent = `page ${paging.page + 1}`;
          prev.disabled = paging.page === 0;
          next.disabled = !paging.next;
        }
      }
    }

    function askScan(data) {
      const body = el("div", {});
      body.appendChild(el("p", { text: data.error || "This reads the whole table." }));
      const planBox = el("div", { class: "plan" });
      planBlock(planBox, data.plan, data.text || null);
      body.appendChild(planBox);
      return confirmDialog({
        title: "Run a full scan?",
        body,
        yes: "Scan",
        no: "Cancel",
        testid: "scan-confirm",
        yesTestid: "scan-confirm-yes",
        noTestid: "scan-confirm-no",
      });
    }

    async function run(qq, withExplain) {
      clearError();
      paging.seq += 1;
      paging.query = qq;
      paging.starts = [null];
      paging.page = 0;
      paging.next = null;
      paging.confirmed = false;
      const seq = paging.seq;
      if (withExplain) await explain(qq, seq);
      if (!alive() || seq !== paging.seq) return;
      await loadPage();
    }

    bar.addEventListener(
      "submit",
      guarded(async (event) => {
        event.preventDefault();
        const qq = current();
        const now = queryParams(parseHash());
        if (now.where !== qq.where || now.index !== qq.index || now.limit !== qq.limit) {
          location.hash = tableHash(name, qq); // the router calls view.update -> run
        } else {
          await run(qq, true);
        }
      })
    );
    explainButton.addEventListener(
      "click",
      guarded(async () => {
        clearError();
        await explain(current());
      })
    );
    pageSize.addEventListener("change", () => bar.requestSubmit(runButton));
    next.addEventListener(
      "click",
      guarded(async () => {
        if (paging.busy || !paging.next) return;
        paging.starts = paging.starts.slice(0, paging.page + 1);
        paging.starts.push(paging.next);
        paging.page += 1;
        const ok = await loadPage();
        if (ok === false) paging.page -= 1;
      })
    );
    prev.addEventListener(
      "click",
      guarded(async () => {
        if (paging.busy || paging.page === 0) return;
        paging.page -= 1;
        await loadPage();
      })
    );

    view.update = (r2) => {
      if (r2.kind !== "table" || r2.table !== name || !alive()) return false;
      view.route = r2;
      const q2 = queryParams(r2);
      whereInput.value = q2.where;
      indexSelect.value = q2.index;
      pageSize.value = q2.limit;
      clearError();
      run(q2, true).catch((err) => alive() && showError(errorLine(err)));
      return true;
    };

    await run(q, !!q.where || !!q.index);
  }

  function renderGrid(wrap, tableName, data) {
    clear(wrap);
    const cols = data.columns || [];
    const keyNames = data.key_names || [];
    if (!data.items.length) {
      wrap.appendChild(el("table", { class: "grid items", testid: "items-grid" }, el("tbody", {}, el("tr", {}, el("td", { class: "muted empty", text: "No items on this page." })))));
      return;
    }
    const thead = el(
      "thead",
      {},
      el(
        "tr",
        {},
        cols.map((c) => el("th", { class: keyNames.includes(c) ? "key" : null, "data-col": c, text: c }))
      )
    );
    const tbody = el("tbody");
    for (const item of data.items) {
      const key = itemKey(item, keyNames);
      const href = itemHref(tableName, key);
      const row = el("tr", { testid: "item-row", class: "clickable" });
      for (const c of cols) {
        const value = item[c];
        const type = typeOf(value);
        const td = el("td", { "data-col": c, "data-type": value === undefined ? null : type, class: keyNames.includes(c) ? "key" : null });
        if (value === undefined) td.classList.add("absent");
        else if (keyNames.includes(c)) {
          td.appendChild(el("a", { href, class: "key-link", testid: "item-link" }, renderValue(value)));
        } else td.appendChild(renderValue(value));
        row.appendChild(td);
      }
      row.addEventListener("click", (event) => {
        if (event.target.closest("a")) return;
        if (window.getSelection && String(window.getSelection())) return; // selecting text
        location.hash = href;
      });
      tbody.appendChild(row);
    }
    wrap.appendChild(el("table", { class: "grid items", testid: "items-grid" }, thead, tbody));
  }

  function deleteTableControls(name) {
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

  // ---------------------------------------------------------------- export

  function exportBlock(name, getQuery) {
    const formats = (state.session && state.session.export_formats) || ["jsonl", "csv"];
    const format = el("select", { testid: "export-format" }, formats.map((f) => el("option", { value: f, text: f })));
    const start = el("button", { type: "button", class: "btn", testid: "export-start", text: "Export" });
    const progress = el("span", { class: "progress", testid: "export-progress" });
    start.addEventListener(
      "click",
      guarded(async () => {
        clearError();
        const q = getQuery();
        start.disabled = true;
        progress.textContent = "starting…";
        try {
          const body = { format: format.value, where: q.where.trim(), index: q.index };
          let job;
          try {
            job = await api("POST", `/api/tables/${enc(name)}/exports`, body);
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 428 && err.data.confirm === "scan")) throw err;
            const planBox = el("div", { class: "plan" });
            planBlock(planBox, err.data.plan, null);
            const ok = await confirmDialog({
              title: "Export with a full scan?",
              body: [el("p", { text: err.data.error || "This reads the whole table." }), planBox],
              yes: "Scan and export",
              testid: "scan-confirm",
              yesTestid: "scan-confirm-yes",
              noTestid: "scan-confirm-no",
            });
            if (!ok) {
              progress.textContent = "";
              return;
            }
            job = await api("POST", `/api/tables/${enc(name)}/exports`, { ...body, confirm: "1" });
          }
          let status;
          for (;;) {
            status = await api("GET", `/api/exports/${enc(job.id)}`);
            progress.textContent = `${fmtInt(status.items)} items`;
            if (status.done || status.error) break;
            await new Promise((res) => setTimeout(res, 300));
          }
          if (status.error) throw new Error(status.error);
          const saved = await download("GET", `/api/exports/${enc(job.id)}/file`, undefined, status.filename || `${name}.${format.value}`);
          progress.textContent = `${fmtInt(status.items)} items · done: ${saved}`;
        } catch (err) {
          progress.textContent = "failed";
          throw err;
        } finally {
          start.disabled = false;
        }
      })
    );
    return el(
      "section",
      { class: "panel export", testid: "export-panel" },
      el("h3", { text: "Export" }),
      el("p", { class: "muted small", text: "Exports the items that match the where box and index above (all of them when empty)." }),
      el("div", { class: "row" }, field("Format", format), start, progress)
    );
  }

  // ---------------------------------------------------------------- an item

  async function renderItem(main, r, alive) {
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
                onclick: () => {
                  view = null;
                  route();
                },
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

  // ---------------------------------------------------------------- SQL

  const SQL_KEY = "ddbkit.console.sql";

  function renderSql(main) {
    main.appendChild(el("div", { class: "view-head" }, el("h2", { text: "SQL" })));
    if (state.session && state.session.sql === false) {
      main.appendChild(el("section", { class: "panel" }, el("p", { text: "SQL needs DuckDB: install ddbkit with the 'sql' extra and restart the console." })));
      return;
    }
    let saved = "";
    try {
      saved = sessionStorage.getItem(SQL_KEY) || "";
    } catch (_) {
      saved = "";
    }
    const editor = el("textarea", {
      class: "editor sql",
      testid: "sql-editor",
      spellcheck: "false",
      rows: 8,
      "aria-label": "SQL query",
      placeholder: "select status, count(*) from users group by status\n\n(Ctrl+Enter runs)",
    });
    editor.value = saved;
    const runButton = el("button", { type: "button", class: "btn btn-primary", testid: "sql-run", text: "Run" });
    const explainButton = el("button", { type: "button", class: "btn", testid: "sql-explain", text: "Explain" });
    const csv = el("button", { type: "button", class: "btn", testid: "sql-download-csv", text: "Download CSV" });
    const jsonl = el("button", { type: "button", class: "btn", testid: "sql-download-jsonl", text: "Download JSONL" });
    const explainOut = el("pre", { class: "panel plan-text", testid: "sql-explain-output", hidden: true });
    const note = el("p", { class: "muted small", testid: "sql-note" });
    const gridWrap = el("div", { class: "grid-wrap" });
    main.append(
      el("section", { class: "panel" }, editor, el("div", { class: "actions" }, runButton, explainButton, el("span", { class: "spacer" }), csv, jsonl)),
      explainOut,
      note,
      el("section", { class: "panel flush" }, gridWrap)
    );

    const query = () => {
      const text = editor.value;
      try {
        sessionStorage.setItem(SQL_KEY, text);
      } catch (_) {
        /* private mode */
      }
      if (!text.trim()) throw new Error("write a query first");
      return text;
    };

    const run = guarded(async () => {
      clearError();
      const q = query();
      runButton.disabled = true;
      gridWrap.classList.add("loading");
      try {
        const data = await api("POST", "/api/sql", { query: q, limit: 1000 });
        renderSqlGrid(gridWrap, data);
        const n = data.rows.length;
        note.textContent = `${fmtInt(n)} row${n === 1 ? "" : "s"}${data.truncated ? " · truncated: only the first rows are shown; download for all of them" : ""}`;
        note.classList.toggle("warn", !!data.truncated);
      } finally {
        runButton.disabled = false;
        gridWrap.classList.remove("loading");
      }
    });
    runButton.addEventListener("click", run);
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run();
      }
    });
    explainButton.addEventListener(
      "click",
      guarded(async () => {
        clearError();
        const data = await api("POST", "/api/sql/explain", { query: query() });
        explainOut.textContent = data.text;
        explainOut.hidden = false;
      })
    );
    for (const [button, format] of [
      [csv, "csv"],
      [jsonl, "jsonl"],
    ]) {
      button.addEventListener(
        "click",
        guarded(async () => {
          clearError();
          button.disabled = true;
          try {
            await download("POST", "/api/sql/download", { query: query(), format }, `query.${format}`);
          } finally {
            button.disabled = false;
          }
        })
      );
    }
  }

  function renderSqlGrid(wrap, data) {
    clear(wrap);
    const types = data.types || [];
    const numeric = types.map((t) => /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DOUBLE|FLOAT|REAL|DECIMAL)/i.test(String(t)));
    wrap.appendChild(
      el(
        "table",
        { class: "grid sql-grid", testid: "sql-grid" },
        el("thead", {}, el("tr", {}, data.columns.map((c, i) => el("th", { class: numeric[i] ? "num" : null, text: c, title: types[i] || null })))),
        el(
          "tbody",
          {},
          data.rows.map((row) =>
            el(
              "tr",
              {},
              row.map((cell, i) =>
                cell === null
                  ? el("td", { class: "v-null", "data-col": data.columns[i], text: "null" })
                  : el("td", { class: numeric[i] ? "num" : null, "data-col": data.columns[i], text: shorten(String(cell), 200), title: String(cell).length > 200 ? String(cell) : null })
              )
            )
          )
        )
      )
    );
  }

  // ---------------------------------------------------------------- anatomy

  async function renderAnatomy(main, r, alive) {
    const name = r.table;
    main.appendChild(crumbs({ text: "Tables", href: "#/tables" }, { text: name, href: `#/table/${enc(name)}` }, { text: "anatomy" }));
    main.appendChild(el("div", { class: "view-head" }, el("h2", {}, `${name} `, el("span", { class: "muted", text: "anatomy" }))));
    const loading = el("p", { class: "muted", text: "Reading a sample of the items…" });
    main.appendChild(loading);
    const [schema, stats] = await Promise.all([
      api("GET", `/api/tables/${enc(name)}/schema?sample=1000`),
      api("GET", `/api/tables/${enc(name)}/stats?sample=1000`),
    ]);
    if (!alive()) return;
    loading.remove();

    // schema
    const attrs = schema.attributes || [];
    const schemaTable = el(
      "table",
      { class: "grid compact", testid: "anatomy-schema" },
      headRow(["Attribute", "Key", "Types", "Items#", "Fill rate#", "Example"]),
      el(
        "tbody",
        {},
        attrs.map((a) =>
          el(
            "tr",
            { class: a.conflict ? "conflict" : null, "data-attr": a.name },
            el("td", { class: "mono strong", text: a.name }),
            el("td", { text: a.key && a.key.length ? a.key.join(", ") : "" }),
            el(
              "td",
              {},
              Object.entries(a.types || {}).map(([t, n]) => el("span", { class: "chip", text: `${t} ${fmtInt(n)}` })),
              a.conflict ? el("span", { class: "tag tag-conflict", text: "conflict" }) : null
            ),
            el("td", { class: "num", text: fmtInt(a.count) }),
            el("td", { class: "num" }, el("span", { class: "fill" }, el("span", { class: "fillbar" }, fillBar(a.fill_rate)), el("span", { class: "pct", text: fmtPct(a.fill_rate) }))),
            el("td", { class: "mono example", text: a.example === undefined || a.example === null ? "" : shorten(typeof a.example === "string" ? a.example : JSON.stringify(a.example), 60) })
          )
        )
      )
    );
    const conflicts = schema.conflicts || [];
    main.appendChild(
      el(
        "section",
        { class: "panel" },
        el("h3", { text: "Schema" }),
        el("p", { class: "muted small", text: scopeLine(schema) }),
        conflicts.length ? el("p", { class: "warn small", text: `Attributes with more than one type: ${conflicts.join(", ")}` }) : null,
        schemaTable
      )
    );

    // stats
    const size = stats.item_size || {};
    main.appendChild(
      el(
        "section",
        { class: "panel" },
        el("h3", { text: "Item sizes" }),
        el("p", { class: "muted small", text: `${scopeLine(stats)} · ${fmtBytes(stats.bytes)} in all · min ${fmtBytes(size.min)}, mean ${fmtBytes(typeof size.mean === "number" ? Math.round(size.mean) : size.mean)}, max ${fmtBytes(size.max)}` }),
        histogram(stats.histogram || [])
      )
    );

    const largest = stats.largest || [];
    const hot = stats.top_by_items || [];
    main.appendChild(
      el(
        "div",
        { class: "two-col" },
        el(
          "section",
          { class: "panel", testid: "anatomy-largest" },
          el("h3", { text: "Largest items" }),
          largest.length
            ? el(
                "table",
                { class: "grid compact" },
                headRow(["Key", "Size#"]),
                el(
                  "tbody",
                  {},
                  largest.map((x) => el("tr", {}, el("td", { class: "mono", text: plainKeyText(x.key) }), el("td", { class: "num", text: fmtBytes(x.size) })))
                )
              )
            : el("p", { class: "muted", text: "No items." })
        ),
        el(
          "section",
          { class: "panel", testid: "anatomy-hot" },
          el("h3", { text: `Hot partition keys${stats.partition_key ? ` (${typeof stats.partition_key === "string" ? stats.partition_key : stats.partition_key.name || ""})` : ""}` }),
          hot.length
            ? el(
                "table",
                { class: "grid compact" },
                headRow(["Value", "Items#", "Share#", "Bytes#"]),
                el(
                  "tbody",
                  {},
                  hot.map((x) =>
                    el(
                      "tr",
                      {},
                      el("td", { class: "mono", text: typeof x.value === "string" ? x.value : JSON.stringify(x.value) }),
                      el("td", { class: "num", text: fmtInt(x.items) }),
                      el("td", { class: "num", text: fmtPct(x.item_share) }),
                      el("td", { class: "num", text: fmtBytes(x.bytes) })
                    )
                  )
                )
              )
            : el("p", { class: "muted", text: "No items." })
        )
      )
    );
  }

  /** "a sample of … · 1,000 items read" (the server names the count items_read; items in the spec). */
  function scopeLine(report) {
    const read = report.items_read !== undefined ? report.items_read : report.items;
    const parts = [];
    if (report.scope) parts.push(report.scope);
    if (typeof read === "number") parts.push(`${fmtInt(read)} item${read === 1 ? "" : "s"} read${report.complete ? " (all of them)" : ""}`);
    return parts.join(" · ");
  }

  function plainKeyText(key) {
    if (!key || typeof key !== "object") return String(key);
    return Object.entries(key)
      .map(([k, v]) => `${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(", ");
  }

  function fillBar(rate) {
    const inner = el("span", { class: "fillbar-fill" });
    inner.style.width = `${Math.max(0, Math.min(1, Number(rate) || 0)) * 100}%`;
    return inner;
  }

  /** The item-size histogram as an SVG bar chart, built with createElementNS. */
  function histogram(bins) {
    const width = 760;
    const height = 240;
    const pad = { top: 16, right: 12, bottom: 48, left: 52 };
    const chartW = width - pad.left - pad.right;
    const chartH = height - pad.top - pad.bottom;
    const max = Math.max(1, ...bins.map((b) => Number(b.items) || 0));
    const root = svg("svg", {
      class: "chart",
      testid: "anatomy-chart",
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": "item size histogram",
      preserveAspectRatio: "xMinYMin meet",
    });
    // grid lines + y labels
    const ticks = niceTicks(max);
    for (const t of ticks) {
      const y = pad.top + chartH - (t / max) * chartH;
      root.appendChild(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "gridline" }));
      root.appendChild(svg("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, fmtInt(t)));
    }
    root.appendChild(svg("line", { x1: pad.left, x2: width - pad.right, y1: pad.top + chartH, y2: pad.top + chartH, class: "baseline" }));
    if (!bins.length) {
      root.appendChild(svg("text", { x: width / 2, y: height / 2, class: "axis", "text-anchor": "middle" }, "no items"));
      return root;
    }
    const slot = chartW / bins.length;
    const barW = Math.max(2, slot * 0.78);
    const labelEvery = Math.ceil(bins.length / Math.max(1, Math.floor(chartW / 70)));
    bins.forEach((b, i) => {
      const n = Number(b.items) || 0;
      const h = (n / max) * chartH;
      const x = pad.left + i * slot + (slot - barW) / 2;
      const y = pad.top + chartH - h;
      root.appendChild(
        svg(
          "rect",
          { x: x.toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: Math.max(n ? 1 : 0, h).toFixed(1), class: "bar", rx: 2 },
          svg("title", {}, `${b.label}: ${fmtInt(n)} items, ${fmtBytes(b.bytes)}`)
        )
      );
      if (n && barW >= 22) {
        root.appendChild(svg("text", { x: (x + barW / 2).toFixed(1), y: (y - 4).toFixed(1), class: "value", "text-anchor": "middle" }, fmtInt(n)));
      }
      if (i % labelEvery === 0) {
        root.appendChild(
          svg("text", { x: (x + barW / 2).toFixed(1), y: pad.top + chartH + 16, class: "axis", "text-anchor": "middle" }, String(b.label))
        );
      }
    });
    root.appendChild(svg("text", { x: pad.left + chartW / 2, y: height - 8, class: "axis title", "text-anchor": "middle" }, "item size"));
    return root;
  }

  function niceTicks(max) {
    const raw = max / 4;
    const mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let t = 0; t <= max + 1e-9; t += step) ticks.push(Math.round(t));
    return ticks;
  }

  // ---------------------------------------------------------------- start

  async function start() {
    $("error-close").addEventListener("click", clearError);
    try {
      state.session = await api("GET", "/api/session");
    } catch (err) {
      $("session-endpoint").textContent = "not connected";
      showError(errorLine(err));
      return;
    }
    const s = state.session;
    $("session-endpoint").textContent = `${s.endpoint} · ${s.region}`;
    $("session-endpoint").title = s.version ? `ddbkit ${s.version}` : "";
    const badge = $("mode-badge");
    badge.textContent = s.local ? "local" : "remote";
    badge.className = `badge ${s.local ? "badge-local" : "badge-remote"}`;
    badge.setAttribute("data-testid", "mode-badge");
    badge.hidden = false;
    $("readonly-badge").hidden = !s.read_only;
    document.body.classList.toggle("read-only", !!s.read_only);
    if (!s.sql) $("nav-sql").classList.add("dim");
    window.addEventListener("hashchange", route);
    route();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
