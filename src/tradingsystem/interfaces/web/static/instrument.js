// Instrument view: candles and volume (lightweight-charts), EMA overlay, fill markers, the trading ladder
// (click a level to trade, drag a working order to move it), chart click-to-trade, time and sales.
"use strict";
(() => {
  const {$, esc, get, watch, fmtTime, num, set, keyed, call, confirmed, setting} = TS;
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
      <td class="${f.side === "BUY" ? "pos" : "neg"}">${f.side}</td><td class="num">${num(f.qty)}</td><td class="num">${num(f.price)}</td>
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
    scale = res.scale; tickRaw = rawOf(res.tick);
    candles.applyOptions({priceFormat: {type: "price", precision: scale, minMove: Number(res.tick)}});
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

  function tape(prints) {
    if (!prints.length) return;
    const body = $("#tape tbody");
    const rows = prints.slice(-40).reverse().map((t) => `<tr><td>${fmtTime(t.ts)}</td>
      <td class="num ${t.aggressor === 1 ? "pos" : t.aggressor === 2 ? "neg" : ""}">${num(t.price)}</td><td class="num">${num(t.size)}</td>
      <td>${t.aggressor === 1 ? "buy" : t.aggressor === 2 ? "sell" : "-"}</td></tr>`).join("");
    body.insertAdjacentHTML("afterbegin", rows);
    while (body.rows.length > 40) body.deleteRow(body.rows.length - 1);
    const p = prints[prints.length - 1].price;
    const el = $("#last-price");
    el.textContent = `${symbol} ${num(p)}`;
    el.className = "big " + (lastPrice === null || p === lastPrice ? "" : rawOf(p) > rawOf(lastPrice) ? "pos" : "neg");
    el.dataset.price = String(p);
    lastPrice = p;
  }

  TS.on((m) => {
    const row = m.instruments.find((i) => i.symbol === symbol);
    if (row) sessionBadge(row);
    myOrders(m.working_orders.filter((o) => o.symbol === symbol));
    const s = m.symbol;
    if (!s || s.symbol !== symbol || !loaded || s.tf !== tf) return;
    pendingCandles = s.candles;
    pendingEv = pendingEv || m.ev_first;
    flushCandles();
    book(s);
    tape(s.tape);
    const newFills = s.fills.filter((f) => f.seq > lastFillSeq);
    if (newFills.length) {
      fills = fills.concat(newFills);
      lastFillSeq = newFills[newFills.length - 1].seq;
      drawMarkers();
    }
  });

  // --- LADDER: a fixed price grid (one row per tick), as in Profit's book ---------------------------
  // Rows keep their price until the ladder recenters, and it never recenters while the pointer is over it,
  // so a click or a drag lands on the price the trader saw. Left columns buy, right columns sell.
  const ROWS = 25;
  let scale = 0, tickRaw = 1, center = null, hover = false, drag = null, best = {bid: null, ask: null, last: null};
  let working = [];
  let priceLines = new Map();

  function rawOf(str) {  // "37.50" -> 3750 with the instrument's decimals; exact, no float
    const s = String(str);
    const neg = s.startsWith("-");
    const [i, f = ""] = (neg ? s.slice(1) : s).split(".");
    const v = Number(i + f.padEnd(scale, "0").slice(0, scale));
    return neg ? -v : v;
  }
  function fmtRaw(raw) {
    if (scale <= 0) return String(raw);
    const neg = raw < 0;
    const d = String(Math.abs(raw)).padStart(scale + 1, "0");
    return (neg ? "-" : "") + d.slice(0, -scale) + "." + d.slice(-scale);
  }
  const rowPrice = (i) => center + (Math.floor(ROWS / 2) - i) * tickRaw;
  const orderPrice = (o) => (o.type === "STOP" || o.type === "STOP_LIMIT" ? o.trigger : o.price);

  function setupLadder() {
    const body = $("#ladder tbody");
    for (let i = 0; i < ROWS; i++) {
      const tr = body.insertRow();
      tr.innerHTML = '<td class="num mine buy" data-side="BUY"></td><td class="num bid" data-side="BUY"></td><td class="px"></td>' +
        '<td class="num ask" data-side="SELL"></td><td class="num mine sell" data-side="SELL"></td>';
      tr.dataset.row = String(i);
    }
    const lad = $("#ladder");
    lad.addEventListener("pointerenter", () => { hover = true; });
    lad.addEventListener("pointerleave", () => { hover = false; });
    lad.addEventListener("pointerdown", onDown);
    document.addEventListener("pointerup", onUp);
    lad.addEventListener("contextmenu", (e) => e.preventDefault());
    $("#l-center").addEventListener("click", () => { center = null; paintLadder(); });
    $("#l-mode").textContent = setting("oneClick") ? "one-click on" : "confirm each order";
  }

  function recenter() {
    const ref = best.last ?? (best.bid !== null && best.ask !== null ? Math.round((best.bid + best.ask) / 2 / tickRaw) * tickRaw
      : best.bid ?? best.ask);
    if (ref === null) return;
    if (center === null) { center = ref; return; }
    if (hover || drag) return;
    const idx = Math.floor(ROWS / 2) - (ref - center) / tickRaw;
    if (idx < 3 || idx > ROWS - 4) center = ref;
  }

  function book(s) {
    scale = s.scale; tickRaw = rawOf(s.tick);
    best.bid = s.bids.length ? rawOf(s.bids[0][0]) : null;
    best.ask = s.asks.length ? rawOf(s.asks[0][0]) : null;
    if (s.tape.length) best.last = rawOf(s.tape[s.tape.length - 1].price);
    sizes = new Map();
    for (const [p, q] of s.bids) sizes.set("b" + rawOf(p), q);
    for (const [p, q] of s.asks) sizes.set("a" + rawOf(p), q);
    paintLadder();
  }
  let sizes = new Map();

  function paintLadder() {
    recenter();
    if (center === null) return;
    const mine = new Map();
    for (const o of working) {
      const p = orderPrice(o);
      if (!p) continue;
      const k = (o.side === "BUY" ? "B" : "S") + rawOf(p);
      const cur = mine.get(k) || {qty: 0, ids: []};
      cur.qty += o.qty - o.filled;
      cur.ids.push(o.order_id);
      mine.set(k, cur);
    }
    const rows = $("#ladder tbody").rows;
    for (let i = 0; i < ROWS; i++) {
      const tr = rows[i], p = rowPrice(i), c = tr.cells;
      const ps = fmtRaw(p);
      if (tr.dataset.price !== ps) tr.dataset.price = ps;
      const mb = mine.get("B" + p), ms = mine.get("S" + p);
      set(c[0], mb ? num(mb.qty) : "", "num mine buy" + (mb ? " has" : ""));
      c[0].dataset.ids = mb ? mb.ids.join(",") : "";
      set(c[1], num(sizes.get("b" + p) ?? ""));
      set(c[2], num(ps), "px" + (p === best.last ? " last" : "") + (best.ask !== null && p >= best.ask ? " askside" : "")
        + (best.bid !== null && p <= best.bid ? " bidside" : ""));
      set(c[3], num(sizes.get("a" + p) ?? ""));
      set(c[4], ms ? num(ms.qty) : "", "num mine sell" + (ms ? " has" : ""));
      c[4].dataset.ids = ms ? ms.ids.join(",") : "";
    }
  }

  function onDown(e) {
    const td = e.target.closest("td");
    if (!td || !td.dataset.side) return;
    const tr = td.parentElement;
    drag = {price: tr.dataset.price, side: td.dataset.side, ids: td.dataset.ids || "", x: e.clientX, y: e.clientY};
    if (drag.ids) e.preventDefault();  // no text selection while dragging an order
  }

  async function onUp(e) {
    const start = drag;
    drag = null;
    if (!start) return;
    const el = document.elementFromPoint(e.clientX, e.clientY);
    const tr = el && el.closest("#ladder tbody tr");
    if (!tr) return;
    const price = tr.dataset.price;
    if (start.ids && price !== start.price) {  // dragged a working order to another price
      const id = start.ids.split(",").filter((x) => !x.startsWith("G-")).pop();
      if (!id) { TS.outcome($("#l-out"), {ok: false, message: "OCO and bracket exits move with their group; cancel and re-arm"}); return; }
      await call(`/api/orders/${encodeURIComponent(id)}/modify`, {price}, $("#l-out"));
      return;
    }
    if (price !== start.price) return;  // pressed on one row, released on another: nothing
    placeAt(start.side, price);
  }

  function kindAt(side, raw) {
    // a buy below the offer rests as a limit; above it is a stop (stop-limit, 5 ticks of room); mirrored for sells
    const ref = side === "BUY" ? (best.ask ?? best.last) : (best.bid ?? best.last);
    if (ref === null) return "LIMIT";
    return (side === "BUY" ? raw <= ref : raw >= ref) ? "LIMIT" : "STOP_LIMIT";
  }

  async function placeAt(side, price, kind) {
    const raw = rawOf(price);
    kind = kind || kindAt(side, raw);
    const qty = $("#l-qty").value.trim();
    const body = {symbol, side, quantity: qty, type: kind, price, tif: "DAY"};
    if (kind === "STOP_LIMIT") { body.trigger = price; body.price = fmtRaw(raw + (side === "BUY" ? 5 : -5) * tickRaw); }
    if (kind === "STOP") body.trigger = price;
    const what = `${side === "BUY" ? "Buy" : "Sell"} ${qty} ${symbol} ${kind.replace("_", "-").toLowerCase()} at ${num(price)}`;
    if (!(await confirmed(what + "?"))) return;
    await call("/api/control/order", body, $("#l-out"));
  }

  let lotSet = false;
  function sessionBadge(row) {
    scale = row.scale;
    if (!lotSet) { lotSet = true; const q = $("#l-qty"); if (q.value === "1") q.value = String(row.lot); }
    if (row.last) best.last = rawOf(row.last);
    const el = $("#phase");
    set(el, row.phase + (row.crossed && row.phase.includes("auction") ? " · book crossed" : ""),
      "badge phase-" + row.phase.replace(/\W+/g, "-"));
    el.dataset.phase = row.phase;
    set($("#session-note"), row.note);
  }

  function myOrders(list) {
    working = list;
    keyed($("#my-orders tbody"), list, (o) => o.order_id, (tr, o) => {
      tr.innerHTML = `<td>${esc(o.order_id)}</td><td class="${o.side === "BUY" ? "pos" : "neg"}">${o.side}</td><td class="num"></td>
        <td></td><td class="num"></td><td><button class="small cancel-one" data-id="${esc(o.order_id)}">cancel</button></td>`;
    }, (tr, o) => {
      set(tr.cells[2], num(o.qty - o.filled)); set(tr.cells[3], o.type.replace("_", "-").toLowerCase());
      set(tr.cells[4], num(orderPrice(o) || o.price));
    }, "no working orders");
    // working orders as price lines on the chart (redrawn only when the set changes)
    if (!candles) return;
    const want = new Map();
    for (const o of list) { const p = orderPrice(o); if (p) want.set(o.order_id + "@" + p, o); }
    for (const [k, line] of priceLines) {
      if (want.has(k) || (lineDrag && lineDrag.key === k)) continue;  // the line being dragged stays
      candles.removePriceLine(line); priceLines.delete(k);
    }
    for (const [k, o] of want) {
      const have = priceLines.get(k);
      if (have) { have._order = o; continue; }
      const line = candles.createPriceLine({price: Number(orderPrice(o)), color: o.side === "BUY" ? "#26a69a" : "#ef5350",
        lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: lineTitle(o)});
      line._order = o;
      priceLines.set(k, line);
    }
  }

  // --- drag a working order's price line on the chart to move it (same modify call as the ladder) --------
  // A press within GRAB px of a line grabs it (the chart neither pans nor opens its menu); the line follows
  // the pointer on the tick grid; the release sends the modify and the answer shows under the chart. The
  // line goes back to the order's price until the engine's answer moves the order (and so the line).
  const GRAB = 6;
  let lineDrag = null, pressAt = null;  // a drag's release is not a click-to-trade
  // A press and release in one spot on the pane (however long the press) is a click-to-trade; the chart's
  // own click event is not used: it misses a slow press that follows another click.
  function chartPress(e) {
    const p = pressAt;
    pressAt = null;
    if (!p || Math.hypot(e.clientX - p.x, e.clientY - p.y) > 5) return;
    const r = $("#chart").getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    if (x < 0 || y < 0 || x > chart.timeScale().width() || y > r.height) return;  // the axes are not the pane
    chartClick({point: {x, y}});
  }
  const snap = (y) => {
    const p = candles.coordinateToPrice(y);
    return p === null || !tickRaw ? null : Math.round(Math.round(p * 10 ** scale) / tickRaw) * tickRaw;
  };
  function lineAt(y) {
    let hit = null, bestD = GRAB + 1;
    for (const [k, line] of priceLines) {
      const o = line._order, ly = candles.priceToCoordinate(Number(orderPrice(o)));
      if (ly === null) continue;
      const d = Math.abs(ly - y);
      if (d < bestD) { bestD = d; hit = {key: k, line, order: o}; }
    }
    return hit;
  }
  function chartY(e) { return e.clientY - $("#chart").getBoundingClientRect().top; }
  function onChartDown(e) {
    if (!candles || e.button !== 0) return;
    const hit = lineAt(chartY(e));
    pressAt = hit ? null : {x: e.clientX, y: e.clientY};
    if (!hit) return;
    e.preventDefault(); e.stopPropagation();  // the chart does not pan under a grabbed line
    lineDrag = {...hit, from: rawOf(orderPrice(hit.order)), to: null};
    chart.applyOptions({handleScroll: false, handleScale: false});
    $("#chart").classList.add("dragging");
  }
  function onChartMove(e) {
    if (!lineDrag) {
      if (candles && e.target.closest && e.target.closest("#chart")) $("#chart").style.cursor = lineAt(chartY(e)) ? "ns-resize" : "";
      return;
    }
    e.preventDefault();
    const raw = snap(chartY(e));
    if (raw === null || raw <= 0) return;
    lineDrag.to = raw;
    lineDrag.line.applyOptions({price: Number(fmtRaw(raw)), title: `→ ${num(fmtRaw(raw))}`});
  }
  async function onChartUp(e) {
    const d = lineDrag;
    if (!d) { chartPress(e); return; }
    lineDrag = null;
    e.preventDefault(); e.stopPropagation();
    chart.applyOptions({handleScroll: true, handleScale: true});
    $("#chart").classList.remove("dragging");
    d.line.applyOptions({price: Number(fmtRaw(d.from)), title: lineTitle(d.order)});
    if (d.to === null || d.to === d.from) return;
    if (d.order.order_id.startsWith("G-")) {
      TS.outcome($("#c-out"), {ok: false, message: "OCO and bracket exits move with their group; cancel and re-arm"});
      return;
    }
    const price = fmtRaw(d.to);
    window.__lastModify = {id: d.order.order_id, price};
    await call(`/api/orders/${encodeURIComponent(d.order.order_id)}/modify`, {price}, $("#c-out"));
  }
  function setupChartDrag() {
    const el = $("#chart");
    el.addEventListener("pointerdown", onChartDown, true);  // capture: before the chart's own handlers
    el.addEventListener("mousedown", (e) => { if (lineDrag) { e.preventDefault(); e.stopPropagation(); } }, true);
    document.addEventListener("pointermove", onChartMove, true);
    document.addEventListener("pointerup", onChartUp, true);
    if (!$("#c-out")) {  // the answer to a drag, under the chart
      const out = document.createElement("p");
      out.id = "c-out"; out.className = "outcome"; out.setAttribute("aria-live", "polite");
      el.parentElement.appendChild(out);
    }
  }
  // The price axis takes in my working orders near the candles (within 2% of their range's middle), so
  // their lines are on screen to be dragged; a far-away order does not squash the candles.
  function withOrders(original) {
    const r = original();
    if (!r || !r.priceRange || !working.length) return r;
    let lo = r.priceRange.minValue, hi = r.priceRange.maxValue;
    const mid = (lo + hi) / 2;
    for (const o of working) {
      const p = Number(orderPrice(o));
      if (p && Math.abs(p - mid) <= mid * 0.02) { lo = Math.min(lo, p); hi = Math.max(hi, p); }
    }
    return {...r, priceRange: {minValue: lo, maxValue: hi}};
  }
  const lineTitle = (o) => `${o.side === "BUY" ? "B" : "S"} ${o.qty - o.filled} ${o.type.toLowerCase()}`;

  function chartClick(param) {
    const menu = $("#chart-menu");
    if (!param.point) { menu.hidden = true; return; }
    const y = candles.coordinateToPrice(param.point.y);
    if (y === null || !tickRaw) return;
    const raw = Math.round(Math.round(y * 10 ** scale) / tickRaw) * tickRaw;
    const price = fmtRaw(raw);
    const above = best.last !== null && raw > best.last;
    const opts = above ? [["SELL", "LIMIT"], ["BUY", "STOP_LIMIT"]] : [["BUY", "LIMIT"], ["SELL", "STOP_LIMIT"]];
    menu.innerHTML = `<b>${esc(num(price))}</b>` + opts.map(([sd, k]) => `<button class="small ${sd === "BUY" ? "buy" : "sell"}"
      data-side="${sd}" data-kind="${k}" data-price="${price}">${sd === "BUY" ? "buy" : "sell"} ${k === "LIMIT" ? "limit" : "stop"}</button>`).join("")
      + '<button class="small" data-close="1">×</button>';
    menu.style.left = Math.min(param.point.x, $("#chart").clientWidth - 200) + "px";
    menu.style.top = param.point.y + "px";
    menu.hidden = false;
  }

  document.addEventListener("click", (e) => {
    const b = e.target.closest("#chart-menu button");
    if (b) {
      $("#chart-menu").hidden = true;
      if (b.dataset.side) placeAt(b.dataset.side, b.dataset.price, b.dataset.kind);
      return;
    }
    const c = e.target.closest("button.cancel-one");
    if (c) call(`/api/orders/${encodeURIComponent(c.dataset.id)}/cancel`, {}, $("#o-out"));
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
      wickDownColor: "#ef5350", borderVisible: false,
      autoscaleInfoProvider: withOrders});
    candles.priceScale().applyOptions({scaleMargins: {top: 0.05, bottom: 0.25}});
    volume = chart.addSeries(LW.HistogramSeries, {priceFormat: {type: "volume"}, priceScaleId: "vol", lastValueVisible: false});
    volume.priceScale().applyOptions({scaleMargins: {top: 0.8, bottom: 0}});
    ema = chart.addSeries(LW.LineSeries, {color: "#f5a623", lineWidth: 2, priceLineVisible: false, lastValueVisible: false});
    markers = LW.createSeriesMarkers(candles, []);
    window.__chart = {chart, candles, volume, ema};
    setupChartDrag();
    setupLadder();
    load();
  });
})();
