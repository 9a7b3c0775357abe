/* The export panel on a table page: start a job, follow it, download the file. */

import { el } from "./dom.js";
import { ApiError, api, clearError, download, enc, guarded } from "./api.js";
import { fmtInt } from "./format.js";
import { confirmDialog, field } from "./widgets.js";
import { planBlock } from "./plan.js";
import { state } from "./state.js";

export function exportBlock(name, getQuery) {
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
        const body = { format: format.value, where: q.where.trim() };
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
    el("p", { class: "muted small", text: "Exports the items that match the where box above (all of them when it is empty)." }),
    el("div", { class: "row" }, field("Format", format), start, progress)
  );
}
