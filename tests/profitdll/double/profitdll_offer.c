/* Offer book (order level, V2 callback) of the ProfitDLL double.
 *
 * The double keeps its own order-level book per ticker: a list per side where position p (as the DLL
 * sends it) is index n - p - 1, counted from the list end. Actions: 0 add (lands at position p), 1 edit,
 * 2 delete, 3 delete-from (the offer at p and every one after it towards the list end), 4 full book.
 * A full book is sent as two arrays (sell, buy) allocated here: header {i32 count, i32 size in bytes},
 * count packed 53-byte entries, u32 flags trailer (OB_LAST_PACKET on the last packet). The client must
 * free each array with FreePointer inside the callback; the double counts good frees, bad frees (twice,
 * wrong size, unknown pointer, outside the callback) and leaks, and poisons every array once the
 * callback returns (the memory is kept, poisoned, until the next full book so that a late read sees
 * garbage rather than freed memory).
 */
#include <stdlib.h>
#include <string.h>

#include "double_internal.h"

int64_t st_offer_arrays, st_offer_frees, st_offer_bad_frees, st_offer_leaks, st_offer_events;

static TOfferBookCallbackV2 cb_offer;
/* How an edit (atEdit) is sent: 0 the quantity as a delta to add to the stored one (the vendor's example,
 * the default), 1 the new quantity (absolute), 2 as a delete followed by an add at the same position. */
static int edit_mode;
static wchar_t otmp_ticker[32], otmp_exch[4], otmp_date[32];

typedef struct { unsigned char *p; int32_t size; int freed; } arr_t;
static arr_t live[2], stale[2];
static int n_live, n_stale;

EXPORT int SetOfferBookCallbackV2(TOfferBookCallbackV2 cb) {
    if (on_worker()) { st_violations++; return NL_INTERNAL_ERROR; }
    cb_offer = cb;
    return NL_OK;
}

static int offer_sub_set(const wchar_t *ticker, const wchar_t *exch, int on) {
    int r = req_guard();
    if (r) return r;
    if (!ticker || !ticker[0] || !exch) return NL_INVALID_ARGS;
    if (on && !valid_exchange(exch)) return NL_EXCHANGE_UNKNOWN;
    pthread_mutex_lock(&mu);
    int t = on ? ensure_ticker(ticker, exch) : find_ticker(ticker);
    if (t >= 0) tickers[t].offer_sub = on;
    pthread_mutex_unlock(&mu);
    return t >= 0 ? NL_OK : (on ? NL_OUT_OF_RANGE : NL_NOT_FOUND);
}

EXPORT int SubscribeOfferBook(const wchar_t *ticker, const wchar_t *exch) { return offer_sub_set(ticker, exch, 1); }
EXPORT int UnsubscribeOfferBook(const wchar_t *ticker, const wchar_t *exch) { return offer_sub_set(ticker, exch, 0); }

EXPORT int FreePointer(void *p, int32_t size) {
    if (!p) return NL_INVALID_ARGS;
    if (on_worker() && in_cb == CB_OFFER) {
        for (int i = 0; i < n_live; i++) {
            if (live[i].p != p) continue;
            if (live[i].freed || size != live[i].size) st_offer_bad_frees++;
            else st_offer_frees++;
            live[i].freed++;
            return NL_OK; /* released (poisoned, then freed) by the double after the callback */
        }
    }
    st_offer_bad_frees++; /* unknown pointer, stale array, or outside the offer-book callback: never free() it */
    return NL_INVALID_ARGS;
}

void offer_release_stale(void) {
    for (int i = 0; i < n_stale; i++) free(stale[i].p);
    n_stale = 0;
}

/* --- the double's own book -------------------------------------------------------------------- */
static int apply(ticker_t *tk, int action, int pos, int side, int64_t qty, int32_t agent, int64_t id, double px) {
    if (side < 0 || side > 1) return 0;
    int n = tk->noff[side];
    offer_t *o = tk->off[side];
    switch (action) {
    case 0: {
        if (pos < 0 || pos > n || n >= MAX_OFFERS || qty <= 0 || !(px > 0)) return 0;
        int i = n - pos;
        memmove(&o[i + 1], &o[i], (size_t)(n - i) * sizeof *o);
        o[i].price = px; o[i].qty = qty; o[i].agent = agent; o[i].id = id;
        tk->noff[side] = n + 1;
        return 1;
    }
    case 1: {
        if (pos < 0 || pos >= n) return 0;
        int i = n - pos - 1;
        if (px > 0) o[i].price = px;
        if (qty > 0) o[i].qty = qty;
        if (agent >= 0) o[i].agent = agent;
        if (id > 0) o[i].id = id;
        return 1;
    }
    case 2: {
        if (pos < 0 || pos >= n) return 0;
        int i = n - pos - 1;
        memmove(&o[i], &o[i + 1], (size_t)(n - i - 1) * sizeof *o);
        tk->noff[side] = n - 1;
        return 1;
    }
    case 3:
        if (pos < 0 || pos >= n) return 0;
        tk->noff[side] = n - pos - 1;
        return 1;
    default:
        return 0;
    }
}

static TAssetIDRec asset_of(int t) {
    wcsncpy(otmp_ticker, tickers[t].name, 31); otmp_ticker[31] = 0;
    wcsncpy(otmp_exch, tickers[t].exch, 3); otmp_exch[3] = 0;
    wcsncpy(otmp_date, L"26/11/2026 10:00:00.000", 31); otmp_date[31] = 0;
    TAssetIDRec a = {otmp_ticker, otmp_exch, 0};
    return a;
}

static void opoison(void) { wmemset(otmp_ticker, L'#', 31); wmemset(otmp_exch, L'#', 3); wmemset(otmp_date, L'#', 31); }

/* one side's array: entries [lo, hi) of the list, in list order */
static unsigned char *build(const offer_t *o, int lo, int hi, uint32_t flags, int corrupt, int32_t *size_out) {
    int32_t count = hi - lo, size = 8 + count * OFFER_ENTRY_V2_SIZE + 4;
    unsigned char *p = calloc(1, (size_t)size), *e = p + 8;
    int32_t hdr_count = corrupt ? count + 1 : count;
    memcpy(p, &hdr_count, 4); memcpy(p + 4, &size, 4);
    for (int i = lo; i < hi; i++, e += OFFER_ENTRY_V2_SIZE) {
        uint16_t len = 23;
        memcpy(e, &o[i].price, 8); memcpy(e + 8, &o[i].qty, 8); memcpy(e + 16, &o[i].agent, 4);
        memcpy(e + 20, &o[i].id, 8); memcpy(e + 28, &len, 2); memcpy(e + 30, "26/11/2026 10:00:00.000", 23);
    }
    memcpy(p + size - 4, &flags, 4);
    *size_out = size;
    st_offer_arrays++;
    return p;
}

static void emit(int t, int action, int pos, int side, int64_t qty, int32_t agent, int64_t id, double px,
                 uint8_t hp, uint8_t hq, uint8_t hi, uint8_t ha, void *sell, void *buy) {
    st_callbacks++;
    st_offer_events++;
    TAssetIDRec a = asset_of(t);
    in_cb = CB_OFFER;
    cb_offer(a, action, pos, side, qty, agent, id, px, hp, hq, 1, hi, ha, otmp_date, sell, buy);
    in_cb = CB_NONE;
    opoison();
}

static void full_book(int t, int packets, int corrupt) {
    ticker_t *tk = &tickers[t];
    offer_t copy[2][MAX_OFFERS];
    int n[2];
    pthread_mutex_lock(&mu);
    for (int s = 0; s < 2; s++) { n[s] = tk->noff[s]; memcpy(copy[s], tk->off[s], (size_t)n[s] * sizeof(offer_t)); }
    pthread_mutex_unlock(&mu);
    if (packets < 1) packets = 1;
    for (int k = 0; k < packets; k++) {
        offer_release_stale();
        uint32_t flags = k == packets - 1 ? OB_LAST_PACKET : 0;
        n_live = 0;
        for (int s = 1; s >= 0; s--) { /* live[0] sell, live[1] buy */
            int lo = n[s] * k / packets, hi = n[s] * (k + 1) / packets;
            live[n_live].p = build(copy[s], lo, hi, flags, corrupt && s == 1, &live[n_live].size);
            live[n_live].freed = 0;
            n_live++;
        }
        emit(t, 4, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0, live[0].p, live[1].p);
        for (int i = 0; i < n_live; i++) {
            if (!live[i].freed) st_offer_leaks++;
            memset(live[i].p, 0xDB, (size_t)live[i].size); /* valid only during the callback */
            stale[i] = live[i];
        }
        n_stale = n_live;
        n_live = 0;
    }
}

/* One event: applied to the double's book, then (if `send` and subscribed) sent in the current edit form.
 * For an edit, `qty` is the new quantity (> 0) or 0 to keep it; the form decides what goes out. */
static void offer_event(int t, int action, int pos, int side, int64_t qty, int32_t agent, int64_t id, double px,
                        int send) {
    pthread_mutex_lock(&mu);
    int sub = tickers[t].offer_sub && md_is_connected() && cb_offer;
    int n = side >= 0 && side <= 1 ? tickers[t].noff[side] : 0;
    offer_t before = {0};
    if (action == 1 && side >= 0 && side <= 1 && pos >= 0 && pos < n) before = tickers[t].off[side][n - pos - 1];
    int ok = apply(&tickers[t], action, pos, side, qty, agent, id, px); /* invalid events change nothing here */
    offer_t after = before;
    if (ok && action == 1) after = tickers[t].off[side][n - pos - 1];
    pthread_mutex_unlock(&mu);
    if (!sub || !send) return;
    if (action != 1 || !ok) {
        emit(t, action, pos, side, qty, agent, id, px, 1, 1, 1, 1, NULL, NULL);
    } else if (edit_mode == 2) {
        emit(t, 2, pos, side, 0, 0, 0, 0.0, 1, 1, 1, 1, NULL, NULL);
        emit(t, 0, pos, side, after.qty, after.agent, after.id, after.price, 1, 1, 1, 1, NULL, NULL);
    } else { /* only the fields given (price > 0, qty > 0, agent >= 0, id > 0) */
        int64_t q = edit_mode == 0 ? after.qty - before.qty : after.qty;
        int has_q = qty > 0 && (edit_mode != 0 || q != 0);
        emit(t, 1, pos, side, has_q ? q : 0, agent, id, px, px > 0, has_q, id > 0, agent >= 0, NULL, NULL);
    }
}

/* a small deterministic generator (LCG) for the scripted random stream */
static uint64_t rnd_state;
static uint32_t rnd(void) { rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL; return (uint32_t)(rnd_state >> 33); }

/* n rounds on ticker t: one trade, then one valid random offer event (add, edit, delete, now and then a
 * delete-from), all on the callback thread in order. Prices stay on the ticker's grid. */
static void offer_stream(int t, int64_t rounds, uint64_t seed) {
    rnd_state = seed;
    static int64_t next_id = 1000000;
    for (int64_t r = 0; r < rounds; r++) {
        deliver_one(t);
        int side = (int)(rnd() % 2);
        pthread_mutex_lock(&mu);
        int n = tickers[t].noff[side];
        double base = tickers[t].base, tick = tickers[t].tick;
        pthread_mutex_unlock(&mu);
        uint32_t k = rnd() % 100;
        double px = base + tick * (double)(side == 0 ? -(int)(rnd() % 10) - 1 : (int)(rnd() % 10) + 1);
        if (n < 4 || (k < 40 && n < MAX_OFFERS - 1)) {
            offer_event(t, 0, (int)(rnd() % (uint32_t)(n + 1)), side, 1 + rnd() % 50, (int32_t)(rnd() % 90), next_id++,
                        px, 1);
        } else if (k < 80) {
            uint32_t f = rnd() % 4; /* quantity only, price only, both, quantity and agent */
            int64_t q = f == 1 ? 0 : 1 + rnd() % 60;
            offer_event(t, 1, (int)(rnd() % (uint32_t)n), side, q, f == 3 ? (int32_t)(rnd() % 90) : -1, 0,
                        f == 1 || f == 2 ? px : 0.0, 1);
        } else if (k < 98) {
            offer_event(t, 2, (int)(rnd() % (uint32_t)n), side, 0, 0, 0, 0.0, 1);
        } else {
            offer_event(t, 3, (int)(rnd() % 3), side, 0, 0, 0, 0.0, 1);
        }
    }
}

void exec_offer(cmd_t *c) {
    int t = c->t;
    if (c->type == C_OFFER_FULL) {
        pthread_mutex_lock(&mu);
        int sub = tickers[t].offer_sub && md_is_connected() && cb_offer;
        pthread_mutex_unlock(&mu);
        if (sub) full_book(t, (int)c->a, (int)c->b);
        return;
    }
    if (c->type == C_OFFER_STREAM) {
        offer_stream(t, c->a, (uint64_t)c->g);
        return;
    }
    offer_event(t, (int)c->a, (int)c->b, (int)c->c, c->e, (int32_t)c->f, c->g, c->d, (int)c->h);
}

/* --- test-only controls ----------------------------------------------------------------------- */

/* One offer event, applied to the double's book (when valid) and, if `emit` and subscribed, sent. */
EXPORT int TestOffer(const wchar_t *ticker, int32_t action, int32_t pos, int32_t side, int64_t qty, int32_t agent,
                     int64_t offer_id, double price, int32_t emit_it) {
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker);
    pthread_mutex_unlock(&mu);
    if (t < 0) return NL_NOT_FOUND;
    cmd_t c = {C_OFFER, t, action, pos, side, qty, agent, price, offer_id, emit_it};
    push(c);
    return NL_OK;
}

EXPORT void TestSetOfferEditMode(int32_t mode) { edit_mode = mode; }

/* `rounds` rounds of one trade and one random offer event on `ticker` (seeded, deterministic). */
EXPORT int TestOfferStream(const wchar_t *ticker, int64_t rounds, int64_t seed) {
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker);
    pthread_mutex_unlock(&mu);
    if (t < 0) return NL_NOT_FOUND;
    cmd_t c = {C_OFFER_STREAM, t, rounds, 0, 0, 0, 0, 0.0, seed, 0};
    push(c);
    return NL_OK;
}

/* A full book of the double's current offers in `packets` packets; `corrupt` makes the sell header lie. */
EXPORT int TestOfferFull(const wchar_t *ticker, int32_t packets, int32_t corrupt) {
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker);
    pthread_mutex_unlock(&mu);
    if (t < 0) return NL_NOT_FOUND;
    cmd_t c = {C_OFFER_FULL, t, packets, corrupt, 0, 0, 0, 0.0, 0, 0};
    push(c);
    return NL_OK;
}

/* A scripted stream: n events from parallel arrays, run in order on the callback thread. */
EXPORT int TestOfferScript(const wchar_t *ticker, int32_t n, const int32_t *action, const int32_t *pos,
                           const int32_t *side, const int64_t *qty, const int32_t *agent, const int64_t *offer_id,
                           const double *price) {
    for (int i = 0; i < n; i++) {
        int r = TestOffer(ticker, action[i], pos[i], side[i], qty[i], agent[i], offer_id[i], price[i], 1);
        if (r) return r;
    }
    return NL_OK;
}

EXPORT int TestOfferCount(const wchar_t *ticker, int32_t side) {
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker), n = (t >= 0 && side >= 0 && side <= 1) ? tickers[t].noff[side] : -1;
    pthread_mutex_unlock(&mu);
    return n;
}

/* The double's offer at DLL position `pos` (counted from the list end). */
EXPORT int TestOfferGet(const wchar_t *ticker, int32_t side, int32_t pos, double *price, int64_t *qty,
                        int32_t *agent, int64_t *offer_id) {
    pthread_mutex_lock(&mu);
    int t = find_ticker(ticker), r = NL_INVALID_ARGS;
    if (t >= 0 && side >= 0 && side <= 1 && pos >= 0 && pos < tickers[t].noff[side]) {
        const offer_t *o = &tickers[t].off[side][tickers[t].noff[side] - pos - 1];
        *price = o->price; *qty = o->qty; *agent = o->agent; *offer_id = o->id;
        r = NL_OK;
    }
    pthread_mutex_unlock(&mu);
    return r;
}
