/* DynamoDB JSON values ({"S": …}, {"N": …}, …) as text and as grid cells. Numbers stay the
 * server's strings (never a JS Number). */

import { el } from "./dom.js";
import { shorten } from "./format.js";

/** Compact JSON-like text of a typed value: numbers and strings stay as the server sent them. */
export function compact(value) {
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

export function typeOf(value) {
  if (!value || typeof value !== "object") return null;
  const keys = Object.keys(value);
  return keys.length === 1 ? keys[0] : null;
}

export function tag(text) {
  return el("span", { class: `tag tag-${text}`, text });
}

/** One grid cell's content for a typed attribute value. */
export function renderValue(value) {
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
