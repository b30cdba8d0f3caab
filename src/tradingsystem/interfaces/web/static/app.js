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

  function toast(text, error) {
    const el = $("#toast");
    if (!el) return;
    el.textContent = text;
    el.className = "toast" + (error ? " error" : "");
    el.hidden = false;
    clearTimeout(el._t);
    el._t = setTimeout(() => { el.hidden = true; }, 4000);
  }

  async function post(action, body) {
    const res = await fetch(`/api/control/${action}`, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { toast(`${action}: ${data.detail || res.status}`, true); throw new Error(data.detail || res.status); }
    return data;
  }

  async function get(path) {
    const res = await fetch(path, {credentials: "same-origin"});
    if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return null; }
    if (!res.ok) { toast(`${path}: ${res.status}`, true); return null; }
    return res.json();
  }

  function watch(symbol, tf, seq) {
    watchMsg = {watch: symbol, tf: tf, seq: seq || 0};
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(watchMsg));
  }

  const signCls = (s) => (String(s).startsWith("-") ? "neg" : (Number(s) ? "pos" : ""));

  if ("serviceWorker" in navigator && window.isSecureContext) navigator.serviceWorker.register("/sw.js").catch(() => {});
  document.addEventListener("DOMContentLoaded", connect);
  return {on: (fn) => handlers.push(fn), post, get, watch, toast, esc, fmtTime, signCls, $, csrf};
})();
