/* Plain-text formatting of counts, sizes, shares and key schemas. */

export function fmtInt(n) {
  if (n === null || n === undefined || n === "") return "–";
  if (typeof n === "number") return n.toLocaleString("en-US");
  return String(n);
}

export function fmtBytes(n) {
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

export function fmtPct(x) {
  if (typeof x !== "number") return "–";
  const pct = x * 100;
  return `${pct >= 99.95 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

export function keyText(key) {
  return key ? `${key.name} (${key.type})` : "–";
}

export function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
