// Overview: node state, positions, working orders, alerts, strategies, controls, the order ticket, settings.
// Tables update in place (one stable row per key), so buttons keep their node while the page updates.
"use strict";
(() => {
  const {$, esc, post, signCls, num, set, keyed, call, outcome, confirmed, setting, setSetting} = TS;
  let side = "BUY", symbolsFilled = false, alertsKey = "";

  function kv(items) {
    const box = $("#node-kv");
    for (const [k, v, cls] of items) {
      let el = box.querySelector(`[data-k="${k}"]`);
      if (!el) {
        el = document.createElement("div");
        el.dataset.k = k;
        el.innerHTML = `<span class="muted small">${esc(k)}</span><b></b>`;
        box.appendChild(el);
      }
      set(el.lastChild, v, cls || "");
    }
  }

  function phases(instruments) {
    const by = new Map();
    for (const i of instruments) by.set(i.phase, (by.get(i.phase) || []).concat([i.symbol]));
    return [...by.entries()].map(([p, syms]) => (by.size === 1 ? p : `${p}: ${syms.length}`)).join(" · ");
  }

  TS.on((m) => {
    const s = m.summary, r = m.risk;
    kv([
      ["feed", `${m.feed.feed || "-"} ${m.feed.connected ? "connected" : "down"}`],
      ["risk state", r.trading_state + (r.kill_switch ? " (kill switch)" : ""), r.trading_state === "ACTIVE" ? "pos" : "neg"],
      ["session", phases(m.instruments)],
      ["today's P&L R$", num(r.day_pnl_brl), signCls(r.day_pnl_brl)],
      ["net P&L R$", num(s.net_pnl_brl), signCls(s.net_pnl_brl)],
      ["fees R$", num(s.fees_brl)],
      ["trades seen", num(s.trades_seen)],
      ["orders / fills", `${num(s.orders_submitted)} / ${num(s.fills)}`],
      ["risk denials", num(s.risk_denials)],
    ]);
    const halt = $("#halt");
    const halted = r.trading_state !== "ACTIVE";
    halt.hidden = !halted;
    if (halted) set(halt, `${r.trading_state}${r.kill_switch ? " by the kill switch" : ""}: ${r.kill_reason || r.reason || ""}`);

    keyed($("#instruments tbody"), m.instruments, (i) => i.symbol, (tr, i) => {
      tr.dataset.symbol = i.symbol;
      tr.innerHTML = `<td><a href="/instrument/${esc(i.symbol)}">${esc(i.symbol)}</a></td><td class="phase"></td>
        <td class="num last"></td><td class="num qty"></td><td class="num avg"></td><td class="num pts"></td>
        <td class="num pnl"></td><td class="num fees"></td><td class="acts"><button class="small flatten-one" data-symbol="${esc(i.symbol)}">flatten</button>
        <button class="small reverse-one" data-symbol="${esc(i.symbol)}">reverse</button>
        <button class="small resume-one" data-symbol="${esc(i.symbol)}" hidden>resume strategies</button></td>`;
    }, (tr, i) => {
      const c = tr.cells;
      const paused = (r.paused || {})[i.symbol];  // a manual trade took it from the strategies
      set(c[1], paused ? `${i.phase} · strategies paused` : i.phase,
        "phase " + (paused ? "neg" : i.phase === "continuous" ? "" : "muted"));
      c[1].title = paused ? `strategies paused: ${paused}` : i.note;
      set(c[2], num(i.last), "num last");
      set(c[3], num(i.position), "num qty " + signCls(i.position));
      set(c[4], num(i.avg), "num avg");
      set(c[5], num(i.pnl_pts), "num pts " + signCls(i.pnl_pts));
      set(c[6], num(i.pnl_brl), "num pnl " + signCls(i.pnl_brl));
      set(c[7], num(i.fees_brl), "num fees");
      const has = i.position !== 0;
      for (const b of c[8].children) {
        if (b.classList.contains("resume-one")) { if (b.hidden === !!paused) b.hidden = !paused; }
        else if (b.disabled === has) b.disabled = !has;
      }
    });

    keyed($("#orders tbody"), m.working_orders, (o) => o.order_id, (tr, o) => {
      tr.dataset.id = o.order_id;
      tr.innerHTML = `<td>${esc(o.order_id)}</td><td>${esc(o.symbol)}</td><td class="${o.side === "BUY" ? "pos" : "neg"}">${o.side}</td>
        <td class="num"></td><td class="num"></td><td></td><td class="num"></td><td class="num"></td><td></td><td></td><td class="muted"></td>
        <td><button class="small cancel-one" data-id="${esc(o.order_id)}">cancel</button></td>`;
    }, (tr, o) => {
      const c = tr.cells;
      set(c[3], num(o.qty)); set(c[4], num(o.filled)); set(c[5], o.type.replace("_", "-").toLowerCase());
      set(c[6], num(o.price)); set(c[7], num(o.trigger)); set(c[8], o.tif); set(c[9], o.status.toLowerCase());
      set(c[10], o.strategy);
    }, "no working orders");

    keyed($("#strategies tbody"), m.strategies, (st) => st.id, (tr, st) => {
      tr.innerHTML = `<td>${esc(st.id)}</td><td class="muted">${esc(st.symbols.join(", "))}</td><td class="state"></td>
        <td><button class="small pause" data-id="${esc(st.id)}"></button></td>`;
    }, (tr, st) => {
      set(tr.cells[2], st.paused ? "paused" : "running", "state " + (st.paused ? "neg" : "pos"));
      const b = tr.cells[3].firstChild;
      const want = String(st.paused);
      if (b.dataset.paused !== want) b.dataset.paused = want;
      set(b, st.paused ? "resume" : "pause");
    }, "no strategies");

    const key = m.alerts.map((a) => a.ts + a.kind).join("|");
    if (key !== alertsKey) {
      alertsKey = key;
      $("#alerts").innerHTML = m.alerts.map((a) => `<li class="${a.severity}"><span class="muted">${TS.fmtTime(a.ts)}</span>
        ${esc(a.kind)}: ${esc(a.message)}</li>`).join("") || `<li class="muted">no alerts</li>`;
    }
    if (!symbolsFilled) {
      $("#t-symbol").innerHTML = m.instruments.map((i) => `<option>${esc(i.symbol)}</option>`).join("");
      symbolsFilled = true;
    }
  });

  function typeChanged() {
    const t = $("#t-type").value;
    $("#t-price").disabled = !(t === "LIMIT" || t === "STOP_LIMIT");
    $("#t-trigger").disabled = !(t === "STOP" || t === "STOP_LIMIT");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const out = $("#control-out");
    $("#kill").addEventListener("click", async () => {
      const res = await post("kill", {reason: "dashboard kill switch", flatten: $("#kill-flatten").checked});
      outcome(out, {ok: true, message: `kill switch engaged: ${res.cancelled} orders cancelled, ${res.flatten_orders} flatten orders`});
    });
    $("#reset").addEventListener("click", async () => {
      if (!(await confirmed("Reset the risk state and release the kill switch?"))) return;
      await post("reset", {confirm: true});
      outcome(out, {ok: true, message: "risk state reset"});
    });
    $("#flatten-all").addEventListener("click", async () => {
      if (!(await confirmed("Flatten every position with market orders?"))) return;
      const res = await post("flatten", {});
      outcome(out, {ok: true, message: `${res.orders} flatten orders sent`});
    });
    $("#cancel-all").addEventListener("click", async () => {
      const res = await post("cancel_all", {});
      outcome(out, {ok: true, message: `${res.cancelled} orders cancelled`});
    });
    document.body.addEventListener("click", async (e) => {
      const t = e.target.closest("button");
      if (!t) return;
      if (t.classList.contains("flatten-one")) {
        const sym = t.dataset.symbol;
        if (!(await confirmed(`Flatten ${sym} with a market order?`))) return;
        const res = await call("/api/control/flatten", {symbol: sym}, $("#position-out"));
        if (res.ok) outcome($("#position-out"), {ok: true, message: `${sym}: ${res.orders} flatten order(s) sent`});
      } else if (t.classList.contains("resume-one")) {
        const res = await call("/api/control/resume_symbol", {symbol: t.dataset.symbol}, $("#position-out"));
        if (res.ok) outcome($("#position-out"), {ok: true, message: `${t.dataset.symbol}: strategies resumed`});
      } else if (t.classList.contains("reverse-one")) {
        const sym = t.dataset.symbol;
        if (!(await confirmed(`Reverse ${sym}: one market order of twice the position?`))) return;
        await call(`/api/positions/${encodeURIComponent(sym)}/reverse`, {}, $("#position-out"));
      } else if (t.classList.contains("cancel-one")) {
        await call(`/api/orders/${encodeURIComponent(t.dataset.id)}/cancel`, {}, $("#orders-out"));
      } else if (t.classList.contains("pause")) {
        const res = await call(`/api/control/${t.dataset.paused === "true" ? "resume" : "pause"}`, {strategy: t.dataset.id},
          $("#strategies-out"));
        if (res.ok) outcome($("#strategies-out"), {ok: true, message: `${res.strategy} ${res.paused ? "paused" : "resumed"}`});
      } else if (t.classList.contains("side")) {
        side = t.dataset.side;
        document.querySelectorAll(".side").forEach((b) => b.classList.toggle("active", b === t));
      }
    });
    $("#t-type").addEventListener("change", typeChanged);
    typeChanged();
    $("#ticket").addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {symbol: $("#t-symbol").value, side, quantity: $("#t-qty").value.trim(), type: $("#t-type").value,
        price: $("#t-price").disabled ? null : $("#t-price").value, trigger: $("#t-trigger").disabled ? null : $("#t-trigger").value,
        take_profit: $("#t-tp").value, stop_loss: $("#t-sl").value, tif: $("#t-tif").value};
      await call("/api/control/order", body, $("#t-out"));
    });
    for (const k of ["sounds", "notify", "oneClick"]) {
      const box = $("#s-" + k);
      box.checked = !!setting(k);
      box.addEventListener("change", async () => {
        if (k === "notify" && box.checked && "Notification" in window && Notification.permission === "default") {
          await Notification.requestPermission();
        }
        setSetting(k, box.checked);
      });
    }
    $("#s-locale").value = setting("locale");
    $("#s-locale").addEventListener("change", () => setSetting("locale", $("#s-locale").value));
  });
})();
