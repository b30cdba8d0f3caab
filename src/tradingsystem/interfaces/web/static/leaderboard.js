// Leaderboard: the strategies this node follows, with their live P&L as signalled and ours.
"use strict";
(() => {
  const {$, esc, get} = TS;

  async function refresh() {
    const d = await get("/api/leaderboard");
    if (!d) return;
    const rows = [...d.rows].sort((a, b) => Number(b.leader_pnl_brl) - Number(a.leader_pnl_brl));
    $("#leaders tbody").innerHTML = rows.length ? rows.map((r) =>
      `<tr><td>${esc(r.strategy)}</td><td>${esc(r.instrument)}</td><td class="num">${r.leader_position}</td>` +
      `<td class="num">${esc(r.leader_pnl_brl)}</td><td class="num">${r.our_position}</td>` +
      `<td class="num">${esc(r.our_pnl_brl)}</td></tr>`).join("")
      : `<tr><td colspan="6" class="muted">${d.following ? "no signal received yet" :
        "this node follows no leader (tradingsystem follow --config …)"}</td></tr>`;
    $("#follow-stats").textContent = d.following
      ? `signals applied ${d.applied}, ignored ${d.ignored} (unknown instrument or strategy not followed)` : "";
  }

  refresh();
  setInterval(refresh, 5000);
})();
