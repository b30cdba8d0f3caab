// Instrument view: candles and volume (lightweight-charts), EMA overlay, fill markers, ladder, time and sales.
"use strict";
(() => {
  const {$, esc, get, watch, fmtTime} = TS;
  const LW = window.LightweightCharts;
  const TFS = {"5s": 5, "15s": 15, "1m": 60, "5m": 300, "15m": 900, "1h": 3600};
  const OFFSET = 3 * 3600;
  const symbol = document.body.dataset.symbol;
  let tf = localStorage.getItem("ts.tf") || "1m";
  let chart, candles, volume, ema, markers, data = [], emaVals = [], loaded = false, lastFillSeq = 0, fills = [];
  let lastPrice = null, pendingCandles = null, pendingEv = 0, chartAt = 0, flushTimer = 0;
  window.__chartLat = [];
  // the candle canvas redraws at most this often (ms); the costly paint on phones and software rendering
  const chartMs = () => Number(document.body.dataset.chartMs || localStorage.getItem("ts.chartMs") || 100);

  const alpha = () => 2 / (Math.max(2, Number($("#ema-len").value) || 20) + 1);
  const volBar = (c) => ({time: c.time, value: c.volume, color: c.close >= c.open ? "rgba(38,166,154,.45)" : "rgba(239,83,80,.45)"});
  const barTime = (ns) => Math.floor((ns / 1e9 - OFFSET) / TFS[tf]) * TFS[tf];

  function emaAt(i) {
    const prev = i > 0 ? emaVals[i - 1] : data[i].close;
    emaVals[i] = i > 0 ? alpha() * data[i].close + (1 - alpha()) * prev : data[i].close;
    return {time: data[i].time, value: emaVals[i]};
  }

  function drawMarkers() {
    const agg = new Map();  // one marker per bar and side: the traded quantity
    for (const f of fills.slice(-2000)) {
      const key = barTime(f.ts) + f.side;
      const m = agg.get(key) || {time: barTime(f.ts), side: f.side, qty: 0, n: 0};
      m.qty += f.qty; m.n += 1;
      agg.set(key, m);
    }
    const ms = [...agg.values()].slice(-300).map((m) => ({time: m.time, position: m.side === "BUY" ? "belowBar" : "aboveBar",
      color: m.side === "BUY" ? "#26a69a" : "#ef5350", shape: m.side === "BUY" ? "arrowUp" : "arrowDown",
      text: agg.size <= 60 ? `${m.side === "BUY" ? "B" : "S"}${m.qty}` : ""}));
    ms.sort((a, b) => a.time - b.time);
    markers.setMarkers(ms);
    $("#fills tbody").innerHTML = fills.slice(-30).reverse().map((f) => `<tr><td>${fmtTime(f.ts)}</td>
      <td class="${f.side === "BUY" ? "pos" : "neg"}">${f.side}</td><td class="num">${f.qty}</td><td class="num">${f.price}</td>
      <td>${esc(f.strategy)}</td></tr>`).join("") || `<tr><td colspan="5" class="muted">no fills</td></tr>`;
  }

  function applyEma() {
    const on = $("#ema-on").checked;
    emaVals = [];
    ema.setData(on ? data.map((_, i) => emaAt(i)) : []);
  }

  async function load() {
    loaded = false;
    const res = await get(`/api/candles?symbol=${encodeURIComponent(symbol)}&tf=${tf}`);
    if (!res) return;
    data = res.candles;
    candles.setData(data);
    volume.setData(data.map(volBar));
    applyEma();
    fills = res.fills;
    lastFillSeq = fills.length ? fills[fills.length - 1].seq : 0;
    drawMarkers();
    chart.timeScale().fitContent();
    document.querySelectorAll("#tfs button").forEach((b) => b.classList.toggle("active", b.dataset.tf === tf));
    loaded = true;
    document.body.dataset.candles = String(data.length);
    watch(symbol, tf, 0);
  }

  function updateCandles(list) {
    for (const c of list) {
      const n = data.length;
      if (n && c.time < data[n - 1].time) continue;
      if (n && c.time === data[n - 1].time) data[n - 1] = c; else data.push(c);
      const i = data.length - 1;
      candles.update(c);
      volume.update(volBar(c));
      if ($("#ema-on").checked) ema.update(emaAt(i));
    }
    document.body.dataset.candles = String(data.length);
  }

  function flushCandles() {
    if (!pendingCandles) return;
    const t = performance.now();
    if (t - chartAt < chartMs()) {
      if (!flushTimer) flushTimer = setTimeout(() => { flushTimer = 0; flushCandles(); }, chartMs() - (t - chartAt));
      return;
    }
    chartAt = t;
    updateCandles(pendingCandles);
    const ev = pendingEv;
    pendingCandles = null;
    pendingEv = 0;
    if (ev) requestAnimationFrame(() => requestAnimationFrame(() => {
      window.__chartLat.push(performance.timeOrigin + performance.now() - ev);
      if (window.__chartLat.length > 5000) window.__chartLat.splice(0, 2500);
    }));
  }

  function ladder(s) {
    const body = $("#ladder tbody");
    const rows = s.asks.slice().reverse().map(([p, q]) => ["", p, q]).concat(s.bids.map(([p, q]) => [q, p, ""]));
    const nAsks = s.asks.length;
    while (body.rows.length < rows.length) {
      const tr = body.insertRow();
      tr.innerHTML = '<td class="num bid"></td><td class="px"></td><td class="num ask"></td>';
    }
    while (body.rows.length > rows.length) body.deleteRow(body.rows.length - 1);
    rows.forEach((r, i) => {  // update the cells in place: no re-layout of the table
      const tr = body.rows[i];
      tr.className = i === nAsks - 1 ? "spread" : "";
      for (let j = 0; j < 3; j++) {
        const text = String(r[j]);
        if (tr.cells[j].textContent !== text) tr.cells[j].textContent = text;
      }
      tr.cells[1].className = "px " + (i < nAsks ? "ask" : "bid");
    });
  }

  function tape(prints) {
    if (!prints.length) return;
    const body = $("#tape tbody");
    const rows = prints.slice(-40).reverse().map((t) => `<tr><td>${fmtTime(t.ts)}</td>
      <td class="num ${t.aggressor === 1 ? "pos" : t.aggressor === 2 ? "neg" : ""}">${t.price}</td><td class="num">${t.size}</td>
      <td>${t.aggressor === 1 ? "buy" : t.aggressor === 2 ? "sell" : "-"}</td></tr>`).join("");
    body.insertAdjacentHTML("afterbegin", rows);
    while (body.rows.length > 40) body.deleteRow(body.rows.length - 1);
    const p = prints[prints.length - 1].price;
    const el = $("#last-price");
    el.textContent = `${symbol} ${p}`;
    el.className = "big " + (lastPrice === null || p === lastPrice ? "" : p > lastPrice ? "pos" : "neg");
    el.dataset.price = String(p);
    lastPrice = p;
  }

  TS.on((m) => {
    const s = m.symbol;
    if (!s || s.symbol !== symbol || !loaded || s.tf !== tf) return;
    pendingCandles = s.candles;
    pendingEv = pendingEv || m.ev_first;
    flushCandles();
    ladder(s);
    tape(s.tape);
    const newFills = s.fills.filter((f) => f.seq > lastFillSeq);
    if (newFills.length) {
      fills = fills.concat(newFills);
      lastFillSeq = newFills[newFills.length - 1].seq;
      drawMarkers();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    const sel = $("#symbol-select");
    sel.innerHTML = document.body.dataset.symbols.split(",").map((s) => `<option${s === symbol ? " selected" : ""}>${esc(s)}</option>`).join("");
    sel.addEventListener("change", () => { location.href = "/instrument/" + encodeURIComponent(sel.value); });
    $("#tfs").innerHTML = Object.keys(TFS).map((k) => `<button class="small" data-tf="${k}">${k}</button>`).join("");
    $("#tfs").addEventListener("click", (e) => {
      if (!e.target.dataset.tf) return;
      tf = e.target.dataset.tf;
      localStorage.setItem("ts.tf", tf);
      load();
    });
    $("#ema-on").addEventListener("change", applyEma);
    $("#ema-len").addEventListener("change", applyEma);
    chart = LW.createChart($("#chart"), {
      autoSize: true,
      layout: {background: {type: "solid", color: "#151d27"}, textColor: "#dbe4ee", attributionLogo: true},
      grid: {vertLines: {visible: false}, horzLines: {visible: false}},  // grid lines double the redraw cost
      timeScale: {timeVisible: true, secondsVisible: true, borderColor: "#243041"},
      rightPriceScale: {borderColor: "#243041"},
    });
    candles = chart.addSeries(LW.CandlestickSeries, {upColor: "#26a69a", downColor: "#ef5350", wickUpColor: "#26a69a",
      wickDownColor: "#ef5350", borderVisible: false});
    candles.priceScale().applyOptions({scaleMargins: {top: 0.05, bottom: 0.25}});
    volume = chart.addSeries(LW.HistogramSeries, {priceFormat: {type: "volume"}, priceScaleId: "vol", lastValueVisible: false});
    volume.priceScale().applyOptions({scaleMargins: {top: 0.8, bottom: 0}});
    ema = chart.addSeries(LW.LineSeries, {color: "#f5a623", lineWidth: 2, priceLineVisible: false, lastValueVisible: false});
    markers = LW.createSeriesMarkers(candles, []);
    window.__chart = {chart, candles, volume, ema};
    load();
  });
})();
