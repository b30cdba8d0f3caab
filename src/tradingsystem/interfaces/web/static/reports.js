// Reports: backtests, shadow, ML and tax reports the CLI wrote under the reports folder; HTML in a
// sandboxed frame, JSON and text as text.
"use strict";
(() => {
  const {$, esc, get} = TS;
  const KINDS = ["all", "backtest", "shadow", "ml", "tax", "other"];
  let reports = [], kind = "all";
  const url = (path) => "/reports/file/" + path.split("/").map(encodeURIComponent).join("/");

  async function show(r) {
    const frame = $("#report-frame"), text = $("#report-text");
    if (r.type === "html") {
      text.hidden = true; frame.hidden = false; frame.src = url(r.path);
    } else {
      frame.hidden = true; text.hidden = false;
      const res = await fetch(url(r.path), {credentials: "same-origin"});
      const body = await res.text();
      try { text.textContent = r.type === "json" ? JSON.stringify(JSON.parse(body), null, 2) : body; }
      catch (err) { text.textContent = body; }
    }
    document.querySelectorAll("#report-list a").forEach((a) => a.classList.toggle("active", a.dataset.path === r.path));
  }

  function list() {
    const shown = reports.filter((r) => kind === "all" || r.kind === kind);
    $("#kinds").innerHTML = KINDS.map((k) => `<button class="small${k === kind ? " active" : ""}" data-kind="${k}">${k}
      (${k === "all" ? reports.length : reports.filter((r) => r.kind === k).length})</button>`).join("");
    $("#report-list").innerHTML = shown.map((r) => `<li><a href="#" data-path="${esc(r.path)}">${esc(r.path)}</a>
      <span class="muted small">${esc(r.kind)} · ${new Date(r.mtime * 1000).toLocaleString()}</span></li>`).join("")
      || '<li class="muted">no reports of this kind yet</li>';
    return shown;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const res = await get("/api/reports");
    if (!res) return;
    reports = res.reports;
    $("#folder").textContent = res.folder
      ? `folder: ${res.folder} (write there with e.g. tradingsystem backtest --out ${res.folder}/my-run)`
      : "no reports folder configured (tradingsystem run --reports-dir)";
    const shown = list();
    $("#kinds").addEventListener("click", (e) => { const b = e.target.closest("button"); if (b) { kind = b.dataset.kind; list(); } });
    $("#report-list").addEventListener("click", (e) => {
      const a = e.target.closest("a");
      if (a) { e.preventDefault(); show(reports.find((r) => r.path === a.dataset.path)); }
    });
    if (shown.length) show(shown[0]);
    document.body.dataset.loaded = "1";
  });
})();
