// Backtest report viewer: lists the HTML reports of the configured folder, shows one in a sandboxed frame.
"use strict";
(() => {
  const {$, esc, get} = TS;

  function show(path) {
    $("#report-frame").src = "/reports/file/" + path.split("/").map(encodeURIComponent).join("/");
    document.querySelectorAll("#report-list a").forEach((a) => a.classList.toggle("active", a.dataset.path === path));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const res = await get("/api/reports");
    if (!res) return;
    $("#folder").textContent = res.folder ? `folder: ${res.folder}` : "no reports folder configured";
    $("#report-list").innerHTML = res.reports.map((r) => `<li><a href="#" data-path="${esc(r.path)}">${esc(r.path)}</a>
      <span class="muted small">${new Date(r.mtime * 1000).toLocaleString()}</span></li>`).join("") || '<li class="muted">no reports</li>';
    $("#report-list").addEventListener("click", (e) => {
      if (e.target.dataset.path) { e.preventDefault(); show(e.target.dataset.path); }
    });
    if (res.reports.length) show(res.reports[0].path);
    document.body.dataset.loaded = "1";
  });
})();
