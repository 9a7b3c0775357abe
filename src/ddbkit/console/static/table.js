/* One table: its info, the where / index / explain bar, the items grid with paging, and the
 * full-scan confirmation. */

import { clear, el } from "./dom.js";
import { ApiError, api, clearError, enc, errorLine, guarded, showError } from "./api.js";
import { fmtBytes, fmtInt, keyText } from "./format.js";
import { renderValue, typeOf } from "./values.js";
import { confirmDialog, crumbs, headRow, infoList } from "./widgets.js";
import { planBlock } from "./plan.js";
import { itemHref, itemKey, readOnly, tableInfo } from "./state.js";
import { keepView, parseHash } from "./router.js";
import { deleteTableControls } from "./tables.js";
import { exportBlock } from "./export.js";

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

export async function renderTable(main, r, alive) {
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
        location.hash = tableHash(name, qq); // the router calls the keepView update below -> run
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

  keepView((r2) => {
    if (r2.kind !== "table" || r2.table !== name || !alive()) return false;
    const q2 = queryParams(r2);
    whereInput.value = q2.where;
    indexSelect.value = q2.index;
    pageSize.value = q2.limit;
    clearError();
    run(q2, true).catch((err) => alive() && showError(errorLine(err)));
    return true;
  });

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
