/* ddbkit console: the browser page. Plain ES2020 modules, no framework, no build step; this is
 * the entry that index.html loads.
 *
 * Every server string reaches the DOM through textContent / createElement (never innerHTML),
 * numbers stay the server's strings (never a JS Number), and there are no inline handlers or
 * style attributes (the server's CSP forbids them).
 */

import { $ } from "./dom.js";
import { api, clearError, errorLine, showError } from "./api.js";
import { state } from "./state.js";
import { startRouter } from "./router.js";
import { renderTables } from "./tables.js";
import { renderTable } from "./table.js";
import { renderItem } from "./item.js";
import { renderSql } from "./sql.js";
import { renderAnatomy } from "./anatomy.js";

/** Read the session, fill in the header (endpoint, local/remote, read-only, SQL), then route. */
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
  startRouter({ tables: renderTables, sql: renderSql, table: renderTable, item: renderItem, anatomy: renderAnatomy });
}

start(); // a module script runs once the document is parsed: the elements above exist
