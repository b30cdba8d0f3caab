// Overview: node state, positions, working orders, alerts, strategies, controls and the order ticket.
"use strict";
(() => {
  const {$, esc, post, toast, signCls} = TS;
  let side = "BUY", symbolsFilled = false;

  function kv(items) {
    return items.map(([k, v, cls]) => `<div><span class="muted small">${esc(k)}</span><b class="${cls || ""}">${esc(v)}</b></div>`).join("");
  }

  TS.on((m) => {
    const s = m.summary, r = m.risk;
    $("#node-kv").innerHTML = kv([
      ["feed", `${m.feed.feed || "-"} ${m.feed.connected ? "connected" : "down"}`],
      ["routing", m.feed.routing || "-"],
      ["risk state", r.trading_state + (r.kill_switch ? " (kill switch)" : ""), r.trading_state === "ACTIVE" ? "pos" : "neg"],
      ["today's P&L R$", r.day_pnl_brl, signCls(r.day_pnl_brl)],
      ["net P&L R$", s.net_pnl_brl, signCls(s.net_pnl_brl)],
      ["fees R$", s.fees_brl],
      ["trades seen", s.trades_seen.toLocaleString()],
      ["orders / fills", `${s.orders_submitted} / ${s.fills}`],
      ["risk denials", s.risk_denials],
    ]);
    $("#instruments tbody").innerHTML = m.instruments.map((i) => `<tr data-symbol="${esc(i.symbol)}">
      <td><a href="/instrument/${esc(i.symbol)}">${esc(i.symbol)}</a></td><td class="num last">${esc(i.last)}</td>
      <td class="num">${i.position}</td><td class="num ${signCls(i.pnl_brl)}">${esc(i.pnl_brl)}</td>
      <td>${i.position ? `<button class="small flatten-one" data-symbol="${esc(i.symbol)}">flatten</button>` : ""}</td></tr>`).join("");
    $("#orders tbody").innerHTML = m.working_orders.map((o) => `<tr><td>${esc(o.order_id)}</td><td>${esc(o.symbol)}</td>
      <td class="${o.side === "BUY" ? "pos" : "neg"}">${o.side}</td><td class="num">${o.qty}</td><td class="num">${o.filled}</td>
      <td>${o.type}</td><td>${o.status}</td></tr>`).join("") || `<tr><td colspan="7" class="muted">no working orders</td></tr>`;
    $("#strategies tbody").innerHTML = m.strategies.map((st) => `<tr><td>${esc(st.id)}</td><td class="muted">${esc(st.symbols.join(", "))}</td>
      <td>${st.paused ? "paused" : "running"}</td><td><button class="small pause" data-id="${esc(st.id)}" data-paused="${st.paused}">
      ${st.paused ? "resume" : "pause"}</button></td></tr>`).join("") || `<tr><td class="muted">no strategies</td></tr>`;
    $("#alerts").innerHTML = m.alerts.map((a) => `<li class="${a.severity}"><span class="muted">${TS.fmtTime(a.ts)}</span>
      ${esc(a.kind)}: ${esc(a.message)}</li>`).join("") || `<li class="muted">no alerts</li>`;
    if (!symbolsFilled) {
      $("#t-symbol").innerHTML = m.instruments.map((i) => `<option>${esc(i.symbol)}</option>`).join("");
      symbolsFilled = true;
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("#kill").addEventListener("click", async () => {
      const res = await post("kill", {reason: "dashboard kill switch", flatten: $("#kill-flatten").checked});
      toast(`kill switch engaged: ${res.cancelled} orders cancelled, ${res.flatten_orders} flatten orders`);
    });
    $("#reset").addEventListener("click", async () => {
      if (!confirm("Reset the risk state and release the kill switch?")) return;
      await post("reset", {confirm: true});
      toast("risk state reset");
    });
    $("#flatten-all").addEventListener("click", async () => {
      if (!confirm("Flatten every position with market orders?")) return;
      const res = await post("flatten", {});
      toast(`${res.orders} flatten orders sent`);
    });
    $("#cancel-all").addEventListener("click", async () => {
      const res = await post("cancel_all", {});
      toast(`${res.cancelled} orders cancelled`);
    });
    document.body.addEventListener("click", async (e) => {
      const t = e.target;
      if (t.classList.contains("flatten-one")) {
        if (!confirm(`Flatten ${t.dataset.symbol}?`)) return;
        const res = await post("flatten", {symbol: t.dataset.symbol});
        toast(`${res.orders} flatten orders sent`);
      } else if (t.classList.contains("pause")) {
        const res = await post(t.dataset.paused === "true" ? "resume" : "pause", {strategy: t.dataset.id});
        toast(`${res.strategy} ${res.paused ? "paused" : "resumed"}`);
      } else if (t.classList.contains("side")) {
        side = t.dataset.side;
        document.querySelectorAll(".side").forEach((b) => b.classList.toggle("active", b === t));
      }
    });
    $("#t-type").addEventListener("change", () => { $("#t-price").disabled = $("#t-type").value === "MARKET"; });
    $("#ticket").addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {symbol: $("#t-symbol").value, side, quantity: Number($("#t-qty").value), type: $("#t-type").value,
        price: $("#t-price").value || null};
      const res = await post("order", body);
      toast(`${res.order_id}: ${res.status}${res.reason ? " (" + res.reason + ")" : ""}`, res.status === "DENIED");
    });
  });
})();
