// Performance analytics: equity and drawdown per curve, daily P&L, hit rate per strategy (ECharts).
"use strict";
(() => {
  const {$, esc, get} = TS;
  const theme = {textStyle: {color: "#dbe4ee"}, backgroundColor: "transparent"};
  const axis = {axisLine: {lineStyle: {color: "#8696a8"}}, splitLine: {lineStyle: {color: "#1e2835"}}};
  let charts = {};

  function lines(series, field) {
    return Object.entries(series).map(([key, s]) => ({name: key, type: "line", showSymbol: false, data: s[field],
      lineStyle: {width: key === "total" ? 2.5 : 1.5}, areaStyle: field === "drawdown" ? {opacity: 0.15} : undefined}));
  }

  async function refresh() {
    const res = await get("/api/performance");
    if (!res) return;
    const time = {type: "time", ...axis};
    const value = {type: "value", scale: true, ...axis};
    charts.equity.setOption({...theme, tooltip: {trigger: "axis"}, legend: {top: 0, textStyle: {color: "#dbe4ee"}},
      grid: {left: 60, right: 20, top: 36, bottom: 30}, xAxis: time, yAxis: value, series: lines(res.series, "equity")});
    charts.drawdown.setOption({...theme, tooltip: {trigger: "axis"}, grid: {left: 60, right: 20, top: 10, bottom: 30},
      xAxis: time, yAxis: value, series: lines(res.series, "drawdown")});
    const total = res.series.total || {days: [], daily_pnl: []};
    charts.daily.setOption({...theme, tooltip: {trigger: "axis"}, grid: {left: 60, right: 20, top: 10, bottom: 30},
      xAxis: {type: "category", data: total.days, ...axis}, yAxis: {type: "value", ...axis},
      series: [{type: "bar", data: total.daily_pnl.map((v) => ({value: v, itemStyle: {color: v >= 0 ? "#26a69a" : "#ef5350"}}))}]});
    $("#stats tbody").innerHTML = res.stats.map((s) => `<tr><td>${esc(s.key)}</td>
      <td class="num ${s.net_brl < 0 ? "neg" : s.net_brl > 0 ? "pos" : ""}">${s.net_brl.toFixed(2)}</td>
      <td class="num neg">${s.max_drawdown_brl.toFixed(2)}</td>
      <td class="num">${s.hit_rate === null ? "-" : (100 * s.hit_rate).toFixed(1) + "%"}</td>
      <td class="num">${s.wins}/${s.losses}</td></tr>`).join("") || `<tr><td colspan="5" class="muted">no equity samples yet</td></tr>`;
    document.body.dataset.loaded = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const id of ["equity", "drawdown", "daily"]) charts[id] = echarts.init($("#" + id), null, {renderer: "canvas"});
    window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
    refresh();
    setInterval(refresh, 5000);
  });
})();
