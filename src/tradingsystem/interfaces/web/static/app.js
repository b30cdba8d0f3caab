// Shared page code: live connection, coalesced painting, control calls, formatting.
"use strict";
const TS = (() => {
  const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  const handlers = [];
  const lat = [];
  let ws = null, pending = null, firstUnpainted = 0, rafQueued = false, retry = 500, watchMsg = null;
  window.__lat = lat;
  window.__paints = 0;
  window.__msgs = 0;

  const now = () => performance.timeOrigin + performance.now();
  const $ = (sel) => document.querySelector(sel);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

  function setConn(on) {
    const el = $("#conn");
    if (el) { el.textContent = on ? "live" : "offline"; el.className = "badge " + (on ? "on" : "off"); }
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/ws`);
    ws.onopen = () => { setConn(true); retry = 500; if (watchMsg) ws.send(JSON.stringify(watchMsg)); };
    ws.onclose = () => { setConn(false); setTimeout(connect, retry); retry = Math.min(retry * 2, 5000); };
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      window.__msgs++;
      if (msg.ev_first && !firstUnpainted) firstUnpainted = msg.ev_first;
      if (pending && pending.symbol && msg.symbol && pending.symbol.symbol === msg.symbol.symbol) {
        msg.symbol.tape = pending.symbol.tape.concat(msg.symbol.tape);  // coalesced: keep every print
      }
      pending = msg;
      if (!rafQueued) { rafQueued = true; requestAnimationFrame(paint); }
    };
  }

  function paint() {
    rafQueued = false;
    const msg = pending;
    pending = null;
    if (!msg) return;
    const evFirst = firstUnpainted;
    firstUnpainted = 0;
    const t0 = performance.now();
    common(msg);
    for (const h of handlers) { try { h(msg); } catch (err) { console.error(err); } }
    window.__workMs = (window.__workMs || 0) + performance.now() - t0;
    requestAnimationFrame(() => {  // the next frame starts after this one was painted
      window.__paints++;
      if (evFirst) {
        const t = now();
        lat.push({first: t - evFirst, last: msg.ev_last ? t - msg.ev_last : null, srv: t - msg.srv});
        if (lat.length > 20000) lat.splice(0, 10000);
      }
    });
  }

  function common(msg) {
    window.__state = msg;
    watchEvents(msg);
    const badge = $("#risk-badge");
    if (badge && msg.risk) {
      badge.textContent = msg.risk.trading_state + (msg.risk.kill_switch ? " · KILL" : "");
      badge.className = "badge " + msg.risk.trading_state;
      badge.dataset.state = msg.risk.trading_state;
    }
    const clock = $("#clock");
    if (clock && msg.ts) clock.textContent = fmtTime(msg.ts) + " BRT";
  }

  function fmtTime(ns) {
    const d = new Date(ns / 1e6 - 3 * 3600 * 1000);
    return d.toISOString().slice(11, 19);
  }

  function toast(text, kind) {
    const el = $("#toast");
    if (!el) return;
    el.textContent = text;
    el.className = "toast " + (kind === true ? "error" : (kind || ""));
    el.hidden = false;
    clearTimeout(el._t);
    el._t = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // --- settings (this browser): sounds, notifications, one-click trading, number locale ----------------
  const DEFAULTS = {sounds: false, notify: false, oneClick: false, locale: "auto"};
  const setting = (k) => { const v = localStorage.getItem("ts." + k); return v === null ? DEFAULTS[k] : JSON.parse(v); };
  const setSetting = (k, v) => localStorage.setItem("ts." + k, JSON.stringify(v));
  const ptBR = () => { const l = setting("locale"); return l === "auto" ? (navigator.language || "").toLowerCase().startsWith("pt") : l === "pt-BR"; };

  // Exact decimal strings ("37.50", "-1234.5") shown in the user's locale; never through a float.
  function num(value) {
    if (value === null || value === undefined || value === "") return "";
    const s = String(value);
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
    if (!m) return s;
    const [th, dec] = ptBR() ? [".", ","] : [",", "."];
    const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, th);
    return m[1] + int + (m[3] !== undefined ? dec + m[3] : "");
  }

  function set(el, text, cls) {  // write only what changed: no re-layout, no replaced nodes
    text = String(text ?? "");
    if (el.textContent !== text) el.textContent = text;
    if (cls !== undefined && el.className !== cls) el.className = cls;
  }

  // Keep one <tr> per key: rows are created once, updated in place and removed when their key goes;
  // buttons inside keep their DOM node, so a press and release land on the same element.
  function keyed(tbody, items, key, build, update, empty) {
    const seen = new Set();
    let prev = null;
    for (const item of items) {
      const k = String(key(item));
      seen.add(k);
      let tr = tbody._rows && tbody._rows.get(k);
      if (!tr) {
        tr = document.createElement("tr");
        tr.dataset.key = k;
        build(tr, item);
        (tbody._rows = tbody._rows || new Map()).set(k, tr);
      }
      update(tr, item);
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== tr) tbody.insertBefore(tr, want);
      prev = tr;
    }
    for (const [k, tr] of tbody._rows || []) if (!seen.has(k)) { tr.remove(); tbody._rows.delete(k); }
    let none = tbody.querySelector("tr.empty");
    if (!items.length && empty && !none) {
      none = document.createElement("tr"); none.className = "empty";
      none.innerHTML = `<td colspan="20" class="muted">${esc(empty)}</td>`;
      tbody.appendChild(none);
    } else if (items.length && none) none.remove();
  }

  // --- outcome of an action, shown in place and in colour --------------------------------------------
  function outcome(el, res) {
    const text = res.message || (res.ok === false ? (res.reason || "refused") : "done");
    const cls = res.ok === false ? (res.status === "DENIED" ? "denied" : "error") : "accepted";
    if (el) {
      el.textContent = text;
      el.className = "outcome " + cls;
      el.dataset.status = res.status || (res.ok === false ? "ERROR" : "OK");
      el.dataset.rule = res.rule || "";
    }
    toast(text, cls);
    if (res.status === "DENIED") alertUser("denial", text);
    return res;
  }

  // In-page confirmation (no blocking dialog: the page keeps updating); skipped in one-click mode.
  function confirmed(text) {
    if (setting("oneClick")) return Promise.resolve(true);
    const box = $("#confirm");
    if (!box) return Promise.resolve(true);
    $("#confirm-text").textContent = text;
    box.hidden = false;
    return new Promise((resolve) => {
      const done = (v) => { box.hidden = true; $("#confirm-ok").onclick = $("#confirm-no").onclick = null; resolve(v); };
      $("#confirm-ok").onclick = () => done(true);
      $("#confirm-no").onclick = () => done(false);
    });
  }

  async function call(path, body, el) {
    let res;
    try {
      res = await fetch(path, {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body || {})});
    } catch (err) {
      return outcome(el, {ok: false, message: "the node does not answer (connection lost)"});
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) return outcome(el, {ok: false, status: "ERROR", message: String(data.detail || `HTTP ${res.status}`)});
    return outcome(el, {ok: true, ...data});
  }

  // --- sounds and browser notifications on fills, denials and kills (settable) -----------------------
  let audio = null, seen = null;
  function beep(freq) {
    try {
      audio = audio || new AudioContext();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = freq; g.gain.value = 0.08;
      o.connect(g); g.connect(audio.destination); o.start(); o.stop(audio.currentTime + 0.15);
    } catch (err) { /* no audio device */ }
  }
  function alertUser(kind, text) {
    window.__alerts = (window.__alerts || []).concat([{kind, text}]).slice(-50);
    if (setting("sounds")) beep(kind === "fill" ? 880 : kind === "denial" ? 330 : kind === "alert" ? 550 : 220);
    if (setting("notify") && "Notification" in window && Notification.permission === "granted") {
      try { new Notification("TradingSystem: " + kind, {body: text, tag: kind}); } catch (err) { /* page not allowed */ }
    }
  }
  // Node alerts worth a sound: warnings and critical ones, not the audit line of every dashboard action
  // (manual_action) nor the kill switch (its own "kill" event).
  const QUIET_ALERTS = new Set(["manual_action", "kill_switch"]);
  let alertKeys = null;
  function watchEvents(msg) {
    const now = {fills: msg.fill_seq || 0, denials: msg.denials || 0, kill: !!(msg.risk && msg.risk.kill_switch)};
    if (seen) {
      if (now.fills > seen.fills) alertUser("fill", `${now.fills - seen.fills} new fill(s)`);
      if (now.denials > seen.denials) alertUser("denial", `${now.denials - seen.denials} order(s) denied by risk`);
      if (now.kill && !seen.kill) alertUser("kill", "kill switch engaged: " + (msg.risk.kill_reason || ""));
    }
    seen = now;
    if (!msg.alerts) return;
    const keys = new Set(msg.alerts.map((a) => `${a.ts}|${a.kind}|${a.message}`));
    if (alertKeys) {
      for (const a of msg.alerts.slice().reverse()) {  // oldest first
        if (alertKeys.has(`${a.ts}|${a.kind}|${a.message}`) || a.severity === "INFO" || QUIET_ALERTS.has(a.kind)) continue;
        alertUser("alert", `${a.kind}: ${a.message}`);
      }
    }
    alertKeys = keys;
  }

  async function post(action, body) {
    const res = await fetch(`/api/control/${action}`, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { toast(`${action}: ${data.detail || res.status}`, "error"); throw new Error(data.detail || res.status); }
    return data;
  }

  async function get(path) {
    const res = await fetch(path, {credentials: "same-origin"});
    if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return null; }
    if (!res.ok) { toast(`${path}: ${res.status}`, "error"); return null; }
    return res.json();
  }

  function watch(symbol, tf, seq) {
    watchMsg = {watch: symbol, tf: tf, seq: seq || 0};
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(watchMsg));
  }

  const signCls = (s) => (String(s).startsWith("-") ? "neg" : (Number(s) ? "pos" : ""));

  if ("serviceWorker" in navigator && window.isSecureContext) navigator.serviceWorker.register("/sw.js").catch(() => {});
  document.addEventListener("DOMContentLoaded", connect);
  return {on: (fn) => handlers.push(fn), post, get, watch, toast, esc, fmtTime, signCls, $, csrf, num, set, keyed,
    call, outcome, confirmed, setting, setSetting, ptBR, alertUser};
})();
