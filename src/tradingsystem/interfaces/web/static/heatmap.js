// Correlation heatmap of instrument returns (ECharts).
"use strict";
(() => {
  const {$, get} = TS;
  let chart, tf = "1m";

  async function refresh() {
    const res = await get(`/api/correlation?tf=${tf}`);
    if (!res) return;
    const n = res.symbols.length;
    const data = [];
    res.matrix.forEach((row, i) => row.forEach((v, j) => data.push([j, n - 1 - i, v])));
    $("#points").textContent = res.matrix.length ? `${res.points} returns of ${tf}` : `not enough data yet (${res.points} returns of ${tf})`;
    chart.setOption({
      backgroundColor: "transparent", textStyle: {color: "#dbe4ee"},
      tooltip: {formatter: (p) => `${res.symbols[p.value[0]]} × ${res.symbols[n - 1 - p.value[1]]}: ${p.value[2]}`},
      grid: {left: 90, right: 20, top: 20, bottom: 110},
      xAxis: {type: "category", data: res.symbols, axisLabel: {rotate: 45, color: "#dbe4ee"}},
      yAxis: {type: "category", data: res.symbols.slice().reverse(), axisLabel: {color: "#dbe4ee"}},
      visualMap: {min: -1, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
        inRange: {color: ["#2166ac", "#f7f7f7", "#b2182b"]}, textStyle: {color: "#dbe4ee"}},
      series: [{type: "heatmap", data, label: {show: n <= 12, color: "#111", fontSize: 11}}],
    }, true);
    document.body.dataset.loaded = "1";
    document.body.dataset.cells = String(data.length);
  }

  document.addEventListener("DOMContentLoaded", () => {
    chart = echarts.init($("#heatmap"));
    window.addEventListener("resize", () => chart.resize());
    $("#tfs").innerHTML = ["5s", "15s", "1m", "5m"].map((k) => `<button class="small${k === tf ? " active" : ""}" data-tf="${k}">${k}</button>`).join("");
    $("#tfs").addEventListener("click", (e) => {
      if (!e.target.dataset.tf) return;
      tf = e.target.dataset.tf;
      document.querySelectorAll("#tfs button").forEach((b) => b.classList.toggle("active", b.dataset.tf === tf));
      refresh();
    });
    refresh();
    setInterval(refresh, 10000);
  });
})();
