// Capture health: event rates from successive counter samples, gaps and errors, disk space.
"use strict";
(() => {
  const {$, esc, get} = TS;
  let prev = null;

  function flat(obj, prefix, out) {
    for (const [k, v] of Object.entries(obj || {})) {
      if (v && typeof v === "object" && !Array.isArray(v)) flat(v, prefix + k + ".", out); else out[prefix + k] = v;
    }
    return out;
  }

  function table(title, obj) {
    const rows = Object.entries(obj).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(typeof v === "number" ? v.toLocaleString() : v)}</td></tr>`).join("");
    return `<div><h2>${esc(title)}</h2><table><tbody>${rows || '<tr><td class="muted">none</td></tr>'}</tbody></table></div>`;
  }

  async function refresh() {
    const h = await get("/api/health");
    if (!h) return;
    const counters = flat(h.data, "", {});
    if (prev) {
      const dt = h.wall - prev.wall;
      const rate = (a, b) => (dt > 0 ? ((a - b) / dt).toFixed(1) + " /s" : "-");
      $("#rates tbody").innerHTML = [
        ["trades", rate(h.data.trades_seen, prev.data.trades_seen)],
        ["book events", rate(h.data.book_events, prev.data.book_events)],
        ["bars", rate(h.data.bars_seen, prev.data.bars_seen)],
        ["orders", rate(h.orders.submitted, prev.orders.submitted)],
        ["fills", rate(h.orders.fills, prev.orders.fills)],
        ["gaps / out of order", `${h.data.out_of_order} (unknown symbols ${h.data.rejected_unknown})`],
        ["last data error", h.last_data_error || "-"],
        ["dashboard clients / pushes", `${h.dashboard.clients} / ${h.dashboard.pushes}`],
      ].map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(v)}</td></tr>`).join("");
    }
    prev = h;
    const gb = (b) => (b / 1e9).toFixed(1) + " GB";
    $("#disk").innerHTML = h.disk ? `<div><span class="muted small">${esc(h.disk.path)}</span><b>${gb(h.disk.free)} free</b></div>
      <div><span class="muted small">used</span><b>${gb(h.disk.used)} of ${gb(h.disk.total)}</b></div>` : '<div class="muted">no data folder configured</div>';
    let html = table("data engine", counters) + table("orders", h.orders) + table("dashboard", h.dashboard);
    for (const [name, stats] of Object.entries(h.sources)) html += table(name, flat(stats, "", {}));
    $("#counters").innerHTML = html;
    document.body.dataset.loaded = "1";
  }

  document.addEventListener("DOMContentLoaded", () => { refresh(); setInterval(refresh, 2000); });
})();
