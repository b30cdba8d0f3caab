// Alternative data: the latest value of each BCB series, and news with sentiment per instrument.
"use strict";
(() => {
  const {$, esc, get} = TS;

  async function refresh() {
    const d = await get("/api/altdata");
    if (!d) return;
    $("#indicators tbody").innerHTML = d.indicators.length ? d.indicators.map((r) =>
      `<tr><td>${esc(r.series)}</td><td>${esc(r.ref)}</td><td class="num">${esc(r.value)}</td>` +
      `<td class="num muted">${esc(r.previous ?? "-")}</td><td class="muted small">${esc(r.published)}</td></tr>`).join("")
      : '<tr><td class="muted">no series stored (tradingsystem altdata fetch)</td></tr>';
    const insts = Object.entries(d.instruments);
    $("#news").innerHTML = insts.length ? insts.map(([inst, s]) =>
      `<div class="altdata-inst"><h3>${esc(inst)} <span class="muted small">${s.count} items, mean ${s.mean.toFixed(2)}, ` +
      `${(100 * s.negative_share).toFixed(0)}% negative</span></h3><table><tbody>` +
      s.items.map((i) => `<tr><td class="muted small">${esc(i.known)}</td><td class="num">${i.score.toFixed(2)}</td>` +
        `<td>${esc(i.text)}</td><td class="muted small">${esc(i.source)}</td></tr>`).join("") +
      "</tbody></table></div>").join("") : '<div class="muted">no news or posts stored</div>';
  }

  refresh();
  setInterval(refresh, 30000);
})();
