// Trades: fills with fees (newest first), daily and monthly P&L from the equity curve, totals.
"use strict";
(() => {
  const {$, esc, get, fmtTime, num, signCls} = TS;

  const pnlRows = (rows) => rows.slice().reverse().map((r) => `<tr><td>${esc(r.period)}</td>
    <td class="num ${signCls(r.pnl_brl)}">${esc(num(r.pnl_brl))}</td></tr>`).join("") || '<tr><td colspan="2" class="muted">no P&amp;L yet</td></tr>';

  async function refresh() {
    const t = await get("/api/trades");
    if (!t) return;
    $("#daily tbody").innerHTML = pnlRows(t.daily);
    $("#monthly tbody").innerHTML = pnlRows(t.monthly);
    $("#totals").innerHTML = [["net P&L R$", t.net_pnl_brl], ["fees R$", t.fees_brl], ["fills", String(t.fills.length)]]
      .map(([k, v]) => `<div><span class="muted small">${esc(k)}</span><b class="${signCls(v)}">${esc(num(v))}</b></div>`).join("");
    $("#trades tbody").innerHTML = t.fills.map((f) => `<tr><td>${fmtTime(f.ts)}</td><td>${esc(f.symbol)}</td>
      <td class="${f.side === "BUY" ? "pos" : "neg"}">${f.side}</td><td class="num">${num(f.qty)}</td><td class="num">${esc(num(f.price))}</td>
      <td class="num">${esc(num(f.fee))}</td><td>${esc(f.strategy)}</td><td class="muted">${esc(f.order_id)}</td></tr>`).join("")
      || '<tr><td colspan="8" class="muted">no fills yet</td></tr>';
    document.body.dataset.loaded = "1";
  }

  document.addEventListener("DOMContentLoaded", () => { refresh(); setInterval(refresh, 3000); });
})();
