/* Internal declarations shared by the double's two translation units (core and routing). */
#ifndef DOUBLE_INTERNAL_H
#define DOUBLE_INTERNAL_H

#include "profitdll_double.h"

#include <pthread.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_TICKERS 64
#define MAX_ORDERS 4096
#define MAX_LEVELS 64
#define MAX_OFFERS 256
#define QCAP 8192
#define MAGIC 0x7A11ADE5u

enum { CB_NONE, CB_TRADE, CB_HIST, CB_ORDER, CB_DEPTH, CB_OTHER, CB_OFFER };
enum {
    C_INIT, C_STREAM, C_PACED, C_ADVANCE, C_DISCONNECT, C_RECONNECT, C_HISTORY, C_STATE, C_HEALTH,
    C_ORDER_NEW, C_FILL, C_CANCEL, C_CHANGE, C_CANCEL_ALL, C_DEPTH, C_OFFER, C_OFFER_FULL, C_EDIT,
    C_OFFER_STREAM
};

typedef struct { int type; int t; int64_t a, b, c, e, f; double d; int64_t g, h; double d2; } cmd_t;

/* one resting order of the double's offer book (DLL list order: position p is index n - p - 1) */
typedef struct { double price; int64_t qty; int32_t agent; int64_t id; } offer_t;

typedef struct {
    wchar_t name[32]; wchar_t exch[4];
    double base, tick; int lot;
    int64_t n;             /* trades generated so far; trade numbers are 1..n */
    int subscribed, depth_sub, offer_sub, active;
    int64_t pos; double avg; double last;
    int nlev[2]; double lev_px[2][MAX_LEVELS]; int64_t lev_qty[2][MAX_LEVELS]; uint32_t lev_cnt[2][MAX_LEVELS];
    int noff[2]; offer_t off[2][MAX_OFFERS];
} ticker_t;

typedef struct {
    int64_t id; wchar_t cl[24]; int t; uint8_t side, type, status; double price, stop, avg;
    int64_t qty, traded, msg_id; wchar_t text[128]; int64_t last_ms; int triggered; /* stop-limit */
} order_t;

typedef struct { uint32_t magic; int t; int64_t n; } trade_rec_t;

extern pthread_mutex_t mu;
extern int q_head, q_len, busy, stop_, initialized, finalized, market_only;
extern ticker_t tickers[MAX_TICKERS];
extern int n_tickers;
extern order_t orders[MAX_ORDERS];
extern int n_orders;
extern int64_t next_local, next_msg;
extern wchar_t reject_next[128];
extern int reject_pending;
extern __thread int in_cb;
extern int64_t st_offer_arrays, st_offer_frees, st_offer_bad_frees, st_offer_leaks, st_offer_events;
extern int64_t st_delivered, st_max_backlog, st_md6, st_violations, st_history, st_callbacks, st_accessor_err;

int64_t clock_ms(void);
TSystemTime to_st(int64_t abs_ms);
int on_worker(void);
int find_ticker(const wchar_t *name);
int ensure_ticker(const wchar_t *name, const wchar_t *exch);
order_t *find_order(int64_t id, const wchar_t *cl);
int is_open(const order_t *o);
int valid_exchange(const wchar_t *e);
void push(cmd_t c);
int req_guard(void);
int account_ok(const TConnectorAccountIdentifier *a);
void emit_msg(order_t *o, uint8_t code, const wchar_t *text);
void emit_order(order_t *o);
void exec_order(cmd_t *c); /* routing commands, run on the callback thread */
void trigger_stops(int t, double px); /* stop-limit orders of ticker t that a trade at px triggers */
extern int n_stops; /* stop-limit orders waiting for their trigger */
void exec_offer(cmd_t *c); /* offer-book commands, run on the callback thread (profitdll_offer.c) */
int md_is_connected(void);
void deliver_one(int t); /* the next trade of ticker t (callback thread) */
void offer_release_stale(void);
void account_changed(void); /* the broker's account changed: save it (profitdll_account.c) */
extern int auto_fill;       /* market orders fill when accepted (TestSetAutoFill) */
void fill_at_last(order_t *o); /* fill the rest of o at its ticker's last trade price (or its base) */ /* at finalize: free the poisoned arrays of the last full book */

#endif
