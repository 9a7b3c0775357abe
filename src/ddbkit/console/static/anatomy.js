/* A table's anatomy: the sampled schema, item sizes (an SVG histogram), largest items and hot
 * partition keys. */

import { el, svg } from "./dom.js";
import { api, enc } from "./api.js";
import { fmtBytes, fmtInt, fmtPct, shorten } from "./format.js";
import { crumbs, headRow } from "./widgets.js";

export async function renderAnatomy(main, r, alive) {
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
