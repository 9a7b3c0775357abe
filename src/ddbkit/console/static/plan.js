/* A query plan (from explain, or from a scan the server wants confirmed) as a panel. */

import { append, clear, el } from "./dom.js";
import { fmtInt } from "./format.js";
import { infoList } from "./widgets.js";

export function planBlock(container, plan, text) {
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
