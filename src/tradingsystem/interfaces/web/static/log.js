// Log: order events, risk denials (with the rule) and alerts, filtered by source, level, instrument and text.
"use strict";
(() => {
  const {$, esc, get, fmtTime} = TS;
  let symbolsFilled = false;

  async function refresh() {
    const q = new URLSearchParams({source: $("#f-source").value, level: $("#f-level").value, symbol: $("#f-symbol").value,
      q: $("#f-text").value, limit: "500"});
    const res = await get("/api/log?" + q.toString());
    if (!res) return;
    $("#log tbody").innerHTML = res.rows.map((r) => `<tr class="lvl-${esc(r.level)}"><td>${fmtTime(r.ts)}</td><td>${esc(r.source)}</td>
      <td class="${r.level === "INFO" ? "muted" : "neg"}">${esc(r.level.toLowerCase())}</td><td>${esc(r.symbol)}</td>
      <td class="wrap">${esc(r.text)}</td></tr>`).join("") || '<tr><td colspan="5" class="muted">nothing matches</td></tr>';
    $("#log-count").textContent = `${res.rows.length} rows (newest first, at most 500)`;
    document.body.dataset.loaded = "1";
  }

  TS.on((m) => {
    if (symbolsFilled) return;
    $("#f-symbol").insertAdjacentHTML("beforeend", m.instruments.map((i) => `<option>${esc(i.symbol)}</option>`).join(""));
    symbolsFilled = true;
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("#filters").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
    for (const id of ["#f-source", "#f-level", "#f-symbol"]) $(id).addEventListener("change", refresh);
    $("#f-text").addEventListener("input", refresh);
    refresh();
    setInterval(() => { if ($("#f-live").checked) refresh(); }, 2000);
  });
})();
