// planactor console: live step status on a run page (polls the journal's view every 0.5 s).
"use strict";
(function () {
  const run = document.getElementById("run");
  if (!run) return;  // a finished run still polls once: the drawing shows its states
  const url = "/runs/" + encodeURIComponent(run.dataset.run) + "/status.json";
  function text(el, value) { if (el) el.textContent = value; }
  function show(doc) {
    run.dataset.status = doc.status;
    const status = document.querySelector("#run-status .state");
    if (status) { status.textContent = doc.status; status.className = "state state-" + doc.status; }
    const reason = document.getElementById("reason");
    if (reason) { reason.textContent = doc.reason || ""; reason.hidden = !doc.reason; }
    if (doc.status === "paused") { const rec = document.getElementById("recovery"); if (rec) rec.hidden = false; }
    for (const step of doc.steps) {
      const sel = '[data-step="' + CSS.escape(step.id) + '"]';
      for (const el of document.querySelectorAll(sel)) el.dataset.state = step.state;
      const row = document.querySelector("tr" + sel);
      if (!row) continue;
      const cell = row.querySelector(".step-state .state");
      if (cell) { cell.textContent = step.state; cell.className = "state state-" + step.state; }
      text(row.querySelector(".step-attempts"), step.attempts ? String(step.attempts) : "-");
      text(row.querySelector(".step-note"), step.note || "");
    }
    if (doc.done) run.dataset.done = "yes";
  }
  async function poll() {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) show(await response.json());
    } catch (e) { /* the server may be restarting: try again */ }
    if (run.dataset.done !== "yes") setTimeout(poll, 500);
  }
  poll();
})();
