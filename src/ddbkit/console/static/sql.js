/* The SQL page: editor, run, explain, and downloads. */

import { clear, el } from "./dom.js";
import { api, clearError, download, guarded } from "./api.js";
import { fmtInt, shorten } from "./format.js";
import { state } from "./state.js";

const SQL_KEY = "ddbkit.console.sql";

export function renderSql(main) {
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
