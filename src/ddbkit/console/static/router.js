/* Hash routing: #/tables, #/sql, #/table/NAME, #/table/NAME/item?key=…, #/table/NAME/anatomy.
 * The views register their renderers with startRouter, so the router imports none of them. */

import { $, clear, el } from "./dom.js";
import { clearError, errorLine, showError } from "./api.js";

let renderers = null; // kind -> render(main, route, alive), from startRouter
let view = null; // {route, update(route) -> bool}
let renderToken = 0;

/** Route every hash change to the renderers (by kind: tables, sql, table, item, anatomy). */
export function startRouter(pages) {
  renderers = { ...pages, notfound: renderNotFound };
  window.addEventListener("hashchange", route);
  route();
}

/** The view on screen takes a new hash itself when update(route) returns true (no re-render). */
export function keepView(update) {
  view.update = update;
}

/** Render the current hash from scratch, even when the view on screen could take it. */
export function reload() {
  view = null;
  route();
}

export function parseHash() {
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

  if (view && view.update && view.update(r)) {
    view.route = r;
    return;
  }
  clearError();
  const token = ++renderToken;
  const main = clear($("main"));
  const alive = () => token === renderToken;
  view = { route: r };
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
