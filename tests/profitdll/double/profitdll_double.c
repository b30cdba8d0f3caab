/* ProfitDLL test double for Linux.
 *
 * Exports the modern subset of ProfitDLL with the same C ABI (CDLL/CFUNCTYPE on Linux) and behaves
 * as the vendor manual says: DLLInitialize* returns at once and one worker thread (the "ConnectorThread")
 * delivers every callback; accessors (TranslateTrade, GetOrderDetails, GetPriceGroup,
 * GetPriceDepthSideCount) work only inside their callback and the pointers they read are poisoned once
 * the callback returns; request functions called from the callback thread fail with an error and are
 * counted as violations; there is no second initialisation after DLLFinalize.
 *
 * Trades are generated deterministically: trade n of a ticker has a price, size, time and agents that
 * are pure functions of n, so history (GetHistoryTrades) replays exactly what the live stream sent.
 * Functions named Test* are test-only controls: login outcome, streaming, faults, fills.
 */
#include "profitdll_double.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "double_internal.h"

pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_work = PTHREAD_COND_INITIALIZER, cv_idle = PTHREAD_COND_INITIALIZER,
                      cv_space = PTHREAD_COND_INITIALIZER;
static cmd_t queue_[QCAP];
int q_head, q_len, busy, stop_, initialized, finalized, market_only;
static pthread_t worker;
static volatile pthread_t worker_id;
static volatile int worker_alive;

static TStateCallback cb_state;
static THealthCallback cb_health;
static TConnectorTradeCallback cb_trade, cb_hist;
static TProgressCallback cb_progress;
static TConnectorPriceDepthCallback cb_depth;
static TConnectorOrderCallback cb_order;
static TTradingMessageResultCallback cb_msg;
static TAccountCallback cb_account;

ticker_t tickers[MAX_TICKERS];
int n_tickers;
order_t orders[MAX_ORDERS];
int n_orders;
int64_t next_local = 1000, next_msg = 1;
static int md_connected, health_status;
static int login_type = 0, login_code = 0, login_hang = 0;
static int activation_invalid;
#define MAX_SEQ 32
static int seq_n, seq_type[MAX_SEQ], seq_result[MAX_SEQ]; /* a scripted login state sequence (any order) */
wchar_t reject_next[128];
int reject_pending;
static int64_t backlog_threshold = 20000;
static int64_t nan_every; /* fault injection: every k-th trade has a NaN price */

/* state of the current callback, only touched by the worker */
__thread int in_cb;
static trade_rec_t cur_trade;
static int64_t cur_order = -1;
static int cur_depth_t = -1;
static wchar_t tmp_ticker[32], tmp_exch[4], tmp_text[128], tmp_cl[24];

/* The DLL's file version, as a Windows version resource carries it (VS_FIXEDFILEINFO): the binding reads
 * it from the file to name the version in its errors. Build with -DDLL_VERSION_LS=... to pose as another. */
#ifndef DLL_VERSION_MS
#define DLL_VERSION_MS ((4u << 16) | 0u)
#endif
#ifndef DLL_VERSION_LS
#define DLL_VERSION_LS ((0u << 16) | 42u)
#endif
__attribute__((used)) const uint32_t vs_fixed_file_info[13] = {
    0xFEEF04BDu, 0x00010000u, DLL_VERSION_MS, DLL_VERSION_LS, DLL_VERSION_MS, DLL_VERSION_LS, 0x3Fu, 0u,
    0x40004u, 2u, 0u, 0u, 0u};

/* statistics */
int64_t st_delivered, st_max_backlog, st_md6, st_violations, st_history, st_callbacks, st_accessor_err;

/* --- time: trade n happens at base_day 10:00:00.000 + n * step_ms (B3 local time) --- */
static int base_y = 2026, base_m = 11, base_d = 26;
static int64_t step_ms = 1;

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t t0_ms(void) { return days_from_civil(base_y, base_m, base_d) * 86400000LL + 10 * 3600000LL; }
static int64_t trade_ms(int64_t n) { return t0_ms() + n * step_ms; }

TSystemTime to_st(int64_t abs_ms) {
    TSystemTime st;
    int y, m, d;
    int64_t days = abs_ms / 86400000LL, rem = abs_ms % 86400000LL;
    civil_from_days(days, &y, &m, &d);
    st.wYear = (uint16_t)y; st.wMonth = (uint16_t)m; st.wDay = (uint16_t)d;
    st.wDayOfWeek = (uint16_t)((days + 4) % 7);
    st.wHour = (uint16_t)(rem / 3600000); st.wMinute = (uint16_t)(rem / 60000 % 60);
    st.wSecond = (uint16_t)(rem / 1000 % 60); st.wMilliseconds = (uint16_t)(rem % 1000);
    return st;
}

int64_t clock_ms(void) {
    int64_t best = t0_ms();
    for (int i = 0; i < n_tickers; i++) if (trade_ms(tickers[i].n) > best) best = trade_ms(tickers[i].n);
    return best;
}

/* --- deterministic trade generator --- */
static double gen_price(const ticker_t *tk, int64_t n) { return tk->base + tk->tick * (double)((n * 7919) % 41 - 20); }
static int64_t gen_qty(const ticker_t *tk, int64_t n) { return tk->lot * (1 + n % 5); }
static uint8_t gen_type(int64_t n) { return n % 50 == 0 ? 4 : (n % 2 ? 2 : 3); }

int md_is_connected(void) { return md_connected; }

int on_worker(void) { return worker_alive && pthread_equal(pthread_self(), worker_id); }

int find_ticker(const wchar_t *name) {
    if (!name) return -1;
    for (int i = 0; i < n_tickers; i++) if (wcscmp(tickers[i].name, name) == 0) return i;
    return -1;
}

int ensure_ticker(const wchar_t *name, const wchar_t *exch) {
    int i = find_ticker(name);
    if (i >= 0 || n_tickers >= MAX_TICKERS) return i;
    i = n_tickers++;
    memset(&tickers[i], 0, sizeof tickers[i]);
    wcsncpy(tickers[i].name, name, 31);
    wcsncpy(tickers[i].exch, exch ? exch : L"B", 3);
    tickers[i].base = 100.0; tickers[i].tick = 0.01; tickers[i].lot = 100;
    return i;
}

order_t *find_order(int64_t id, const wchar_t *cl) {
    for (int i = 0; i < n_orders; i++)
        if ((id > 0 && orders[i].id == id) || (id <= 0 && cl && wcscmp(orders[i].cl, cl) == 0)) return &orders[i];
    return NULL;
}

int is_open(const order_t *o) { return o->status == 0 || o->status == 1 || o->status == 10; }

int valid_exchange(const wchar_t *e) {
    return e && wcslen(e) == 1 && wcschr(L"ABDEFKMNOPXY", e[0]) != NULL;
}

/* --- command queue --- */
void push(cmd_t c) {
    pthread_mutex_lock(&mu);
    while (q_len == QCAP && !stop_) pthread_cond_wait(&cv_space, &mu);
    queue_[(q_head + q_len) % QCAP] = c;
    q_len++;
    pthread_cond_signal(&cv_work);
    pthread_mutex_unlock(&mu);
}

/* guard for request functions: initialised, not finalised, not on the callback thread */
int req_guard(void) {
    if (on_worker()) { __sync_fetch_and_add(&st_violations, 1); return NL_INTERNAL_ERROR; }
    if (!initialized || finalized) return NL_NOT_INITIALIZED;
    if (activation_invalid) return NL_NO_LICENSE;
    return NL_OK;
}

int account_ok(const TConnectorAccountIdentifier *a) {
    return a && a->BrokerID == 308 && a->AccountID && wcscmp(a->AccountID, L"12345") == 0;
}

/* --- callback emitters (worker thread only) --- */
static TConnectorAssetIdentifier asset_tmp(int t) {
    wcsncpy(tmp_ticker, tickers[t].name, 31); tmp_ticker[31] = 0;
    wcsncpy(tmp_exch, tickers[t].exch, 3); tmp_exch[3] = 0;
    TConnectorAssetIdentifier a = {0, tmp_ticker, tmp_exch, 0};
    return a;
}

static void poison(void) {
    wmemset(tmp_ticker, L'#', 31); wmemset(tmp_exch, L'#', 3); wmemset(tmp_text, L'#', 127);
    wmemset(tmp_cl, L'#', 23);
}

static void emit_state(int type, int result) {
    st_callbacks++;
    if (type == 3) activation_invalid = result != 0; /* an invalid key: requests fail with NL_NO_LICENSE */
    if (type == 2) { pthread_mutex_lock(&mu); md_connected = result == 4 || result == 5 || result == 6; pthread_mutex_unlock(&mu); }
    if (cb_state) { in_cb = CB_OTHER; cb_state(type, result); in_cb = CB_NONE; }
}

static void emit_trade(TConnectorTradeCallback cb, int kind, int t, int64_t n, uint32_t flags) {
    st_callbacks++;
    if (!cb) return;
    TConnectorAssetIdentifier a = asset_tmp(t);
    cur_trade.magic = MAGIC; cur_trade.t = t; cur_trade.n = n;
    in_cb = kind;
    cb(a, &cur_trade, flags);
    in_cb = CB_NONE;
    cur_trade.magic = 0xDEADu; cur_trade.n = -1;
    poison();
}

static void emit_progress(int t, int pct) {
    st_callbacks++;
    if (!cb_progress) return;
    wcsncpy(tmp_ticker, tickers[t].name, 31); wcsncpy(tmp_exch, tickers[t].exch, 3);
    TAssetIDRec a = {tmp_ticker, tmp_exch, 0};
    in_cb = CB_OTHER; cb_progress(a, pct); in_cb = CB_NONE;
    poison();
}

void emit_msg(order_t *o, uint8_t code, const wchar_t *text) {
    st_callbacks++;
    if (!cb_msg) return;
    wcsncpy(tmp_cl, o->cl, 23); tmp_cl[23] = 0;
    wcsncpy(tmp_text, text ? text : L"", 127); tmp_text[127] = 0;
    TConnectorTradingMessageResult r = {0, 308, {0, o->id, tmp_cl}, o->msg_id, code, tmp_text, (int32_t)wcslen(tmp_text)};
    in_cb = CB_OTHER; cb_msg(&r); in_cb = CB_NONE;
    poison();
}

void emit_order(order_t *o) {
    st_callbacks++;
    if (!cb_order) return;
    wcsncpy(tmp_cl, o->cl, 23); tmp_cl[23] = 0;
    TConnectorOrderIdentifier id = {0, o->id, tmp_cl};
    cur_order = o->id; in_cb = CB_ORDER;
    cb_order(id);
    in_cb = CB_NONE; cur_order = -1;
    poison();
}

void deliver_one(int t) {
    ticker_t *tk = &tickers[t];
    int64_t n;
    int deliver;
    pthread_mutex_lock(&mu);
    n = ++tk->n;
    tk->last = gen_price(tk, n);
    deliver = md_connected && tk->subscribed;
    pthread_mutex_unlock(&mu);
    if (deliver) { emit_trade(cb_trade, CB_TRADE, t, n, 0); st_delivered++; }
    if (n_stops) trigger_stops(t, tk->last);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run_stream(int64_t count, double rate) {
    int act[MAX_TICKERS], na = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n_tickers; i++) if (tickers[i].active) act[na++] = i;
    pthread_mutex_unlock(&mu);
    if (!na) return;
    int64_t total = count * na, k = 0;
    double t0 = now_s();
    int md6 = 0;
    for (int64_t i = 0; i < count; i++) {
        for (int j = 0; j < na; j++, k++) {
            if (rate > 0) {
                double target = t0 + (double)k / rate, now = now_s();
                if (target - now > 60e-6) { /* far ahead: sleep, leave the core to the client */
                    struct timespec ts = {0, (long)((target - now - 30e-6) * 1e9)};
                    nanosleep(&ts, NULL);
                    now = now_s();
                }
                while (now < target) now = now_s();
                int64_t due = (int64_t)((now - t0) * rate);
                int64_t backlog = (due < total ? due : total) - k;
                if (backlog > st_max_backlog) st_max_backlog = backlog;
                if (!md6 && backlog > backlog_threshold) { md6 = 1; st_md6++; emit_state(2, 6); }
                else if (md6 && backlog < backlog_threshold / 4) { md6 = 0; emit_state(2, 4); }
            }
            deliver_one(act[j]);
        }
    }
    if (md6) emit_state(2, 4);
}

static void run_history(int t, int64_t start, int64_t end) {
    ticker_t *tk = &tickers[t];
    int64_t lo = (start - t0_ms() + step_ms - 1) / step_ms, hi = (end - t0_ms()) / step_ms;
    if (lo < 1) lo = 1;
    if (hi > tk->n) hi = tk->n;
    int64_t total = hi >= lo ? hi - lo + 1 : 0;
    int last_pct = -1;
    for (int64_t n = lo; n <= hi; n++) {
        emit_trade(cb_hist, CB_HIST, t, n, n == hi ? TC_LAST_PACKET : 0);
        st_history++;
        int pct = (int)((n - lo + 1) * 100 / total);
        if (pct / 10 != last_pct / 10 && pct < 100) { emit_progress(t, pct); last_pct = pct; }
    }
    emit_progress(t, 100);
}

static void depth_apply(int t, int side, int pos, int upd, double px, int64_t qty, uint32_t cnt) {
    ticker_t *tk = &tickers[t];
    int n = tk->nlev[side];
    if (upd == 0 || upd == 3) { /* add / insert at pos (0 = best) */
        if (n >= MAX_LEVELS || pos < 0 || pos > n) return;
        memmove(&tk->lev_px[side][pos + 1], &tk->lev_px[side][pos], (size_t)(n - pos) * sizeof(double));
        memmove(&tk->lev_qty[side][pos + 1], &tk->lev_qty[side][pos], (size_t)(n - pos) * sizeof(int64_t));
        memmove(&tk->lev_cnt[side][pos + 1], &tk->lev_cnt[side][pos], (size_t)(n - pos) * sizeof(uint32_t));
        tk->lev_px[side][pos] = px; tk->lev_qty[side][pos] = qty; tk->lev_cnt[side][pos] = cnt;
        tk->nlev[side] = n + 1;
    } else if (upd == 1) {
        if (pos < 0 || pos >= n) return;
        tk->lev_qty[side][pos] = qty; tk->lev_cnt[side][pos] = cnt;
    } else if (upd == 2) {
        if (pos < 0 || pos >= n) return;
        memmove(&tk->lev_px[side][pos], &tk->lev_px[side][pos + 1], (size_t)(n - pos - 1) * sizeof(double));
        memmove(&tk->lev_qty[side][pos], &tk->lev_qty[side][pos + 1], (size_t)(n - pos - 1) * sizeof(int64_t));
        memmove(&tk->lev_cnt[side][pos], &tk->lev_cnt[side][pos + 1], (size_t)(n - pos - 1) * sizeof(uint32_t));
        tk->nlev[side] = n - 1;
    }
}

static void exec_cmd(cmd_t *c) {
    switch (c->type) {
    case C_INIT:
        if (login_hang) return;
        if (seq_n) { /* the states exactly as scripted, in that order */
            for (int i = 0; i < seq_n; i++) emit_state(seq_type[i], seq_result[i]);
            if (cb_account) {
                in_cb = CB_OTHER; cb_account(308, L"Double Corretora", L"12345", L"TESTER"); in_cb = CB_NONE;
            }
            break;
        }
        emit_state(0, login_type == 0 ? login_code : 0);
        if (login_type == 0 && login_code != 0) return;
        emit_state(3, login_type == 3 ? login_code : 0);
        if (login_type == 3 && login_code != 0) return;
        if (!market_only) { emit_state(1, 1); emit_state(1, 2); emit_state(1, 4); emit_state(1, 5); }
        emit_state(2, 1); emit_state(2, 2);
        pthread_mutex_lock(&mu); md_connected = 1; pthread_mutex_unlock(&mu);
        emit_state(2, 4);
        if (cb_account) {
            in_cb = CB_OTHER; cb_account(308, L"Double Corretora", L"12345", L"TESTER"); in_cb = CB_NONE;
        }
        break;
    case C_STREAM: run_stream(c->a, 0); break;
    case C_EDIT: emit_trade(cb_trade, CB_TRADE, c->t, c->a, 1); break; /* bEdit: a correction of trade n */
    case C_PACED: run_stream(c->a, c->d); break;
    case C_ADVANCE:
        for (int64_t i = 0; i < c->a; i++)
            for (int j = 0; j < n_tickers; j++) if (tickers[j].active) deliver_one(j);
        break;
    case C_DISCONNECT:
        pthread_mutex_lock(&mu);
        md_connected = 0;
        for (int i = 0; i < n_tickers; i++) {
            tickers[i].subscribed = 0; tickers[i].depth_sub = 0; tickers[i].offer_sub = 0;
        }
        pthread_mutex_unlock(&mu);
        emit_state(2, 0);
        break;
    case C_RECONNECT:
        emit_state(2, 1); emit_state(2, 2);
        pthread_mutex_lock(&mu); md_connected = 1; pthread_mutex_unlock(&mu);
        emit_state(2, 4);
        break;
    case C_HISTORY: run_history(c->t, c->a, c->b); break;
    case C_STATE: emit_state((int)c->a, (int)c->b); break;
    case C_HEALTH:
        health_status = (int)c->a;
        st_callbacks++;
        if (cb_health) { in_cb = CB_OTHER; cb_health((int)c->a); in_cb = CB_NONE; }
        break;
    case C_ORDER_NEW: case C_FILL: case C_CANCEL: case C_CHANGE: case C_CANCEL_ALL:
        exec_order(c);
        break;
    case C_OFFER: case C_OFFER_FULL: case C_OFFER_STREAM:
        exec_offer(c);
        break;
    case C_DEPTH: {
        int side = (int)c->a, pos = (int)c->b, upd = (int)c->c;
        pthread_mutex_lock(&mu);
        depth_apply(c->t, side, pos, upd, c->d, c->e, (uint32_t)c->f);
        int sub = tickers[c->t].depth_sub && md_connected;
        pthread_mutex_unlock(&mu);
        st_callbacks++;
        if (sub && cb_depth) {
            TConnectorAssetIdentifier a = asset_tmp(c->t);
            cur_depth_t = c->t; in_cb = CB_DEPTH;
            cb_depth(a, (uint8_t)side, pos, (uint8_t)upd);
            in_cb = CB_NONE; cur_depth_t = -1;
            poison();
        }
        break;
    }
    }
}

static void *worker_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (q_len == 0 && !stop_) {
            busy = 0;
            pthread_cond_broadcast(&cv_idle);
            pthread_cond_wait(&cv_work, &mu);
        }
        if (q_len == 0 && stop_) break;
        cmd_t c = queue_[q_head];
        q_head = (q_head + 1) % QCAP;
        q_len--;
        busy = 1;
        pthread_cond_signal(&cv_space);
        pthread_mutex_unlock(&mu);
        exec_cmd(&c);
        pthread_mutex_lock(&mu);
    }
    busy = 0;
    pthread_cond_broadcast(&cv_idle);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int start(const wchar_t *key, const wchar_t *user, const wchar_t *pwd, int mkt_only) {
    if (on_worker()) { st_violations++; return NL_INTERNAL_ERROR; }
    if (finalized) return NL_INTERNAL_ERROR; /* one lifecycle per process */
    if (initialized) return NL_DUPLICATE_RESOURCE;
    if (!key || !user || !pwd) return NL_INVALID_ARGS;
    if (!user[0]) return NL_NO_USER;
    if (!pwd[0]) return NL_NO_PASSWORD;
    initialized = 1; market_only = mkt_only; stop_ = 0;
    if (pthread_create(&worker, NULL, worker_main, NULL) != 0) { initialized = 0; return NL_INTERNAL_ERROR; }
    worker_id = worker; worker_alive = 1;
    cmd_t c = {C_INIT, 0, 0, 0, 0, 0, 0, 0};
    push(c);
    return NL_OK;
}

/* ===================== exported API ===================== */

EXPORT int DLLInitializeLogin(const wchar_t *key, const wchar_t *user, const wchar_t *pwd, TStateCallback state,
                              void *history, void *order_change, TAccountCallback account, void *new_trade,
                              void *new_daily, void *price_book, void *offer_book, void *history_trade,
                              TProgressCallback progress, void *tiny_book) {
    (void)history; (void)order_change; (void)new_trade; (void)new_daily; (void)price_book; (void)offer_book;
    (void)history_trade; (void)tiny_book;
    if (!initialized && !finalized && !on_worker()) { cb_state = state; cb_account = account; cb_progress = progress; }
    return start(key, user, pwd, 0);
}

EXPORT int DLLInitializeMarketLogin(const wchar_t *key, const wchar_t *user, const wchar_t *pwd,
                                    TStateCallback state, void *new_trade, void *new_daily, void *price_book,
                                    void *offer_book, void *history_trade, TProgressCallback progress,
                                    void *tiny_book) {
    (void)new_trade; (void)new_daily; (void)price_book; (void)offer_book; (void)history_trade; (void)tiny_book;
    if (!initialized && !finalized && !on_worker()) { cb_state = state; cb_progress = progress; }
    return start(key, user, pwd, 1);
}

EXPORT int DLLFinalize(void) {
    if (on_worker()) { st_violations++; return NL_INTERNAL_ERROR; }
    if (!initialized) return NL_NOT_INITIALIZED;
    pthread_mutex_lock(&mu);
    stop_ = 1;
    pthread_cond_broadcast(&cv_work);
    pthread_cond_broadcast(&cv_space);
    pthread_mutex_unlock(&mu);
    pthread_join(worker, NULL);
    worker_alive = 0; initialized = 0; finalized = 1; md_connected = 0;
    offer_release_stale();
    return NL_OK;
}

#define SETTER(name, var, type) \
    EXPORT int name(type cb) { if (on_worker()) { st_violations++; return NL_INTERNAL_ERROR; } var = cb; return NL_OK; }
SETTER(SetStateCallback, cb_state, TStateCallback)
SETTER(SetHealthCallback, cb_health, THealthCallback)
SETTER(SetTradeCallbackV2, cb_trade, TConnectorTradeCallback)
SETTER(SetHistoryTradeCallbackV2, cb_hist, TConnectorTradeCallback)
SETTER(SetSerieProgressCallback, cb_progress, TProgressCallback)
SETTER(SetPriceDepthCallback, cb_depth, TConnectorPriceDepthCallback)
SETTER(SetOrderCallback, cb_order, TConnectorOrderCallback)
SETTER(SetTradingMessageResultCallback, cb_msg, TTradingMessageResultCallback)

EXPORT int GetHealthStatus(int32_t *out) { if (!out) return NL_INVALID_ARGS; *out = health_status; return NL_OK; }

EXPORT int GetServerClock(double *dt, int *y, int *m, int *d, int *h, int *mi, int *s, int *ms) {
    int r = req_guard();
    if (r) return r;
    if (!dt || !y || !m || !d || !h || !mi || !s || !ms) return NL_INVALID_ARGS;
    pthread_mutex_lock(&mu);
    int64_t now = clock_ms();
    pthread_mutex_unlock(&mu);
    TSystemTime st = to_st(now);
    *y = st.wYear; *m = st.wMonth; *d = st.wDay; *h = st.wHour; *mi = st.wMinute; *s = st.wSecond;
    *ms = st.wMilliseconds;
    *dt = (double)(now - days_from_civil(1899, 12, 30) * 86400000LL) / 86400000.0;
    return NL_OK;
}

EXPORT int SubscribeTicker(const wchar_t *ticker, const wchar_t *exch) {
    int r = req_guard();
    if (r) return r;
    if (!ticker || !ticker[0] || !exch) return NL_INVALID_ARGS;
    if (!valid_exchange(exch)) return NL_EXCHANGE_UNKNOWN;
    pthread_mutex_lock(&mu);
    int t = ensure_ticker(ticker, exch);
    if (t >= 0) { tickers[t].subscribed = 1; tickers[t].active = 1; }
    pthread_mutex_unlock(&mu);
    return t >= 0 ? NL_OK : NL_OUT_OF_RANGE;
}

EXPORT int UnsubscribeTicker(const wchar_t *ticker, const wchar_t *exch) {
    int r = req_guard();
    if (r) return r;
    if (!ticker || !exch) return NL_INVALID_ARGS;
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker);
    if (t >= 0) tickers[t].subscribed = 0;
    pthread_mutex_unlock(&mu);
    return t >= 0 ? NL_OK : NL_NOT_FOUND;
}

EXPORT int SubscribePriceDepth(const TConnectorAssetIdentifier *a) {
    int r = req_guard();
    if (r) return r;
    if (!a || !a->Ticker || !a->Exchange) return NL_INVALID_ARGS;
    if (a->Version != 0) return NL_VERSION_NOT_SUPPORTED;
    if (!valid_exchange(a->Exchange)) return NL_EXCHANGE_UNKNOWN;
    pthread_mutex_lock(&mu);
    int t = ensure_ticker(a->Ticker, a->Exchange);
    if (t >= 0) tickers[t].depth_sub = 1;
    pthread_mutex_unlock(&mu);
    return t >= 0 ? NL_OK : NL_OUT_OF_RANGE;
}

EXPORT int UnsubscribePriceDepth(const TConnectorAssetIdentifier *a) {
    int r = req_guard();
    if (r) return r;
    if (!a || !a->Ticker) return NL_INVALID_ARGS;
    pthread_mutex_lock(&mu);
    int t = find_ticker(a->Ticker);
    if (t >= 0) tickers[t].depth_sub = 0;
    pthread_mutex_unlock(&mu);
    return t >= 0 ? NL_OK : NL_NOT_FOUND;
}

static int depth_accessor_guard(const TConnectorAssetIdentifier *a, int *t) {
    if (!on_worker() || in_cb != CB_DEPTH) { st_accessor_err++; return NL_INVALID_ARGS; }
    if (!a || !a->Ticker) return NL_INVALID_ARGS;
    *t = find_ticker(a->Ticker);
    if (*t < 0 || *t != cur_depth_t) { st_accessor_err++; return NL_INVALID_ARGS; }
    return NL_OK;
}

EXPORT int GetPriceDepthSideCount(const TConnectorAssetIdentifier *a, uint8_t side) {
    int t, r = depth_accessor_guard(a, &t);
    if (r) return r;
    if (side > 1) return NL_INVALID_ARGS;
    return tickers[t].nlev[side];
}

EXPORT int GetPriceGroup(const TConnectorAssetIdentifier *a, uint8_t side, int32_t pos, TConnectorPriceGroup *pg) {
    int t, r = depth_accessor_guard(a, &t);
    if (r) return r;
    if (side > 1 || !pg || pos < 0 || pos >= tickers[t].nlev[side]) return NL_INVALID_ARGS;
    if (pg->Version != 0) return NL_VERSION_NOT_SUPPORTED;
    pg->Price = tickers[t].lev_px[side][pos];
    pg->Quantity = tickers[t].lev_qty[side][pos];
    pg->Count = tickers[t].lev_cnt[side][pos];
    pg->PriceGroupFlags = 0;
    return NL_OK;
}

EXPORT int TranslateTrade(void *p, TConnectorTrade *out) {
    if (!on_worker() || (in_cb != CB_TRADE && in_cb != CB_HIST) || p != (void *)&cur_trade ||
        cur_trade.magic != MAGIC) {
        st_accessor_err++;
        return NL_INVALID_ARGS;
    }
    if (!out) return NL_INVALID_ARGS;
    if (out->Version != 0) return NL_VERSION_NOT_SUPPORTED;
    const ticker_t *tk = &tickers[cur_trade.t];
    int64_t n = cur_trade.n;
    out->TradeDate = to_st(trade_ms(n));
    out->TradeNumber = (uint32_t)n;
    out->Price = (nan_every > 0 && n % nan_every == 0) ? NAN : gen_price(tk, n);
    out->Quantity = gen_qty(tk, n);
    out->Volume = out->Price * (double)out->Quantity;
    out->BuyAgent = 3 + (int32_t)(n % 7);
    out->SellAgent = 10 + (int32_t)(n % 5);
    out->TradeType = gen_type(n);
    return NL_OK;
}

static int parse_date(const wchar_t *s, int64_t *abs_ms) {
    int d, m, y, h, mi, sec;
    if (!s || swscanf(s, L"%d/%d/%d %d:%d:%d", &d, &m, &y, &h, &mi, &sec) != 6) return 0;
    if (m < 1 || m > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return 0;
    *abs_ms = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400000LL + ((h * 60LL + mi) * 60 + sec) * 1000;
    return 1;
}

EXPORT int GetHistoryTrades(const wchar_t *ticker, const wchar_t *exch, const wchar_t *start, const wchar_t *end) {
    int r = req_guard();
    if (r) return r;
    int64_t s, e;
    if (!ticker || !exch || !parse_date(start, &s) || !parse_date(end, &e) || e < s) return NL_INVALID_ARGS;
    if (!valid_exchange(exch)) return NL_EXCHANGE_UNKNOWN;
    pthread_mutex_lock(&mu);
    int64_t now = clock_ms();
    int t = find_ticker(ticker);
    pthread_mutex_unlock(&mu);
    if (s < now - 30LL * 86400000LL) return NL_HISTORY_PERIOD_LIMIT;
    if ((wcsncmp(ticker, L"WIN", 3) == 0 || wcsncmp(ticker, L"WDO", 3) == 0) && e - s >= 10LL * 86400000LL)
        return NL_INVALID_ARGS;
    if (t < 0) return NL_INVALID_TICKER;
    cmd_t c = {C_HISTORY, t, s, e + 999, 0, 0, 0, 0};
    push(c);
    return NL_OK;
}

/* ===================== test-only controls ===================== */

EXPORT void TestSetLoginResult(int32_t type, int32_t code) { login_type = type; login_code = code; }
EXPORT void TestSetLoginHang(int32_t hang) { login_hang = hang; }
/* Replace the login state sequence with n (type, result) pairs, played in this order. */
EXPORT void TestSetLoginSequence(int32_t n, const int32_t *types, const int32_t *results) {
    seq_n = n < 0 ? 0 : n > MAX_SEQ ? MAX_SEQ : n;
    for (int i = 0; i < seq_n; i++) { seq_type[i] = types[i]; seq_result[i] = results[i]; }
}
EXPORT void TestSetBacklogThreshold(int64_t n) { backlog_threshold = n; }
EXPORT void TestSetNanEvery(int64_t k) { nan_every = k; }

EXPORT int TestDefineTicker(const wchar_t *name, const wchar_t *exch, double base, double tick, int32_t lot) {
    pthread_mutex_lock(&mu);
    int t = ensure_ticker(name, exch);
    if (t >= 0) {
        tickers[t].base = base; tickers[t].tick = tick; tickers[t].lot = lot; tickers[t].last = base;
        wcsncpy(tickers[t].exch, exch, 3);
    }
    pthread_mutex_unlock(&mu);
    return t;
}

EXPORT void TestStream(int64_t per_ticker) { cmd_t c = {C_STREAM, 0, per_ticker, 0, 0, 0, 0, 0}; push(c); }
/* Re-send trade number n of a ticker flagged as an exchange correction (bEdit). */
EXPORT int TestEdit(const wchar_t *ticker, int64_t n) {
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker);
    pthread_mutex_unlock(&mu);
    if (t < 0) return NL_NOT_FOUND;
    cmd_t c = {C_EDIT, t, n, 0, 0, 0, 0, 0};
    push(c);
    return NL_OK;
}
EXPORT void TestStreamPaced(int64_t per_ticker, double rate) {
    cmd_t c = {C_PACED, 0, per_ticker, 0, 0, 0, 0, rate};
    push(c);
}
EXPORT void TestAdvance(int64_t per_ticker) { cmd_t c = {C_ADVANCE, 0, per_ticker, 0, 0, 0, 0, 0}; push(c); }
EXPORT void TestDisconnect(void) { cmd_t c = {C_DISCONNECT, 0, 0, 0, 0, 0, 0, 0}; push(c); }
EXPORT void TestReconnect(void) { cmd_t c = {C_RECONNECT, 0, 0, 0, 0, 0, 0, 0}; push(c); }
EXPORT void TestInjectState(int32_t type, int32_t result) { cmd_t c = {C_STATE, 0, type, result, 0, 0, 0, 0}; push(c); }
EXPORT void TestSetHealth(int32_t status) { cmd_t c = {C_HEALTH, 0, status, 0, 0, 0, 0, 0}; push(c); }



EXPORT int TestDepth(const wchar_t *ticker, int32_t side, int32_t pos, int32_t update, double price, int64_t qty,
                     int32_t count) {
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker);
    pthread_mutex_unlock(&mu);
    if (t < 0) return NL_NOT_FOUND;
    cmd_t c = {C_DEPTH, t, side, pos, update, qty, count, price};
    push(c);
    return NL_OK;
}

/* An order and a position that exist before the client connects (for reconciliation). */


/* Wait until the callback thread has run every queued command. */
EXPORT void TestWaitIdle(void) {
    if (on_worker()) return;
    pthread_mutex_lock(&mu);
    while (worker_alive && (q_len > 0 || busy)) pthread_cond_wait(&cv_idle, &mu);
    pthread_mutex_unlock(&mu);
}

EXPORT int64_t TestStat(int32_t which) {
    switch (which) {
    case 0: return st_delivered;
    case 1: return st_max_backlog;
    case 2: return st_md6;
    case 3: return st_violations;
    case 4: return st_history;
    case 5: return st_callbacks;
    case 6: return st_accessor_err;
    case 7: return st_offer_arrays;
    case 8: return st_offer_frees;
    case 9: return st_offer_bad_frees;
    case 10: return st_offer_leaks;
    case 11: return st_offer_events;
    default: return -1;
    }
}

EXPORT void TestResetStats(void) { st_delivered = st_max_backlog = st_md6 = st_history = 0; }
