/* Page building blocks shared by the views: crumbs, header rows, labelled fields, definition
 * lists, and the in-page confirm dialog. */

import { $, clear, el } from "./dom.js";

export function crumbs(...parts) {
  const nav = el("div", { class: "crumbs" });
  parts.forEach((part, i) => {
    if (i) nav.appendChild(el("span", { class: "sep", text: "/" }));
    nav.appendChild(part.href ? el("a", { href: part.href, text: part.text }) : el("span", { text: part.text }));
  });
  return nav;
}

/** A header row; names ending in "#" are numeric columns (right-aligned). */
export function headRow(names) {
  return el(
    "thead",
    {},
    el("tr", {}, names.map((h) => (h.endsWith("#") ? el("th", { class: "num", text: h.slice(0, -1) }) : el("th", { text: h }))))
  );
}

export function field(label, control, hint) {
  return el("label", { class: "field" }, el("span", { class: "label", text: label }), control, hint ? el("span", { class: "hint", text: hint }) : null);
}

export function infoList(pairs) {
  return el(
    "dl",
    { class: "info" },
    pairs.filter(Boolean).map(([k, v]) => [el("dt", { text: k }), el("dd", {}, v === null || v === undefined || v === "" ? "–" : v)])
  );
}

/**
 * A modal confirm in the page (never window.confirm). Resolves true on yes, false on no.
 * opts: {title, body: node|string|array, yes, no, testid, yesTestid, noTestid, danger}
 */
export function confirmDialog(opts) {
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
