/* ProfitDLL test double, the broker's side of the account: a real broker keeps the account's orders and
 * positions while the client process is gone. Test-only controls:
 *   TestSetAccountFile(path): load the account (orders, positions, id counters) from path if it exists, and
 *     save it there after every change, so a client killed with SIGKILL finds the same account when a new
 *     process loads the double again (orders the broker had received but not yet processed are accepted,
 *     and with auto fill a market order is filled: call TestSetAutoFill first);
 *   TestSetAutoFill(on): market orders fill in full at the ticker's last trade price when accepted (a liquid
 *     market), instead of waiting for TestFill. */
#include "double_internal.h"

#include <stdio.h>
#include <string.h>

#define ACCOUNT_MAGIC 0x41434354u
static char account_path[1024];
int auto_fill;

typedef struct { wchar_t name[32]; wchar_t exch[4]; int64_t pos; double avg; } saved_pos_t;

void account_changed(void) {
    if (!account_path[0]) return;
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", account_path);
    pthread_mutex_lock(&mu);
    FILE *f = fopen(tmp, "wb");
    if (f) {
        uint32_t magic = ACCOUNT_MAGIC;
        int32_t n = n_orders, np = 0;
        for (int i = 0; i < n_tickers; i++) np += tickers[i].pos != 0;
        fwrite(&magic, sizeof magic, 1, f); fwrite(&next_local, sizeof next_local, 1, f);
        fwrite(&next_msg, sizeof next_msg, 1, f); fwrite(&n, sizeof n, 1, f);
        for (int i = 0; i < n_orders; i++) {
            fwrite(&orders[i], sizeof orders[i], 1, f);
            fwrite(tickers[orders[i].t].name, sizeof tickers[0].name, 1, f);
            fwrite(tickers[orders[i].t].exch, sizeof tickers[0].exch, 1, f);
        }
        fwrite(&np, sizeof np, 1, f);
        for (int i = 0; i < n_tickers; i++) {
            if (!tickers[i].pos) continue;
            saved_pos_t p;
            memset(&p, 0, sizeof p);
            wcsncpy(p.name, tickers[i].name, 31); wcsncpy(p.exch, tickers[i].exch, 3);
            p.pos = tickers[i].pos; p.avg = tickers[i].avg;
            fwrite(&p, sizeof p, 1, f);
        }
        fclose(f);
        rename(tmp, account_path);
    }
    pthread_mutex_unlock(&mu);
}

static void account_load(FILE *f) {
    uint32_t magic = 0;
    int32_t n = 0, np = 0;
    if (fread(&magic, sizeof magic, 1, f) != 1 || magic != ACCOUNT_MAGIC) return;
    if (fread(&next_local, sizeof next_local, 1, f) != 1 || fread(&next_msg, sizeof next_msg, 1, f) != 1) return;
    if (fread(&n, sizeof n, 1, f) != 1 || n < 0 || n > MAX_ORDERS) return;
    for (int i = 0; i < n; i++) {
        order_t o;
        wchar_t name[32], exch[4];
        if (fread(&o, sizeof o, 1, f) != 1 || fread(name, sizeof name, 1, f) != 1 || fread(exch, sizeof exch, 1, f) != 1)
            return;
        o.t = ensure_ticker(name, exch);
        if (o.status == 10) o.status = 11; /* received before the client died: processed below */
        if (o.type == 4 && !o.triggered && (o.status == 11 || is_open(&o))) n_stops++;
        orders[n_orders++] = o;
    }
    if (fread(&np, sizeof np, 1, f) != 1) return;
    for (int i = 0; i < np; i++) {
        saved_pos_t p;
        if (fread(&p, sizeof p, 1, f) != 1) return;
        int t = ensure_ticker(p.name, p.exch);
        tickers[t].pos = p.pos; tickers[t].avg = p.avg;
    }
    for (int i = 0; i < n_orders; i++) { /* the broker accepted them since (and, with auto fill, filled) */
        order_t *o = &orders[i];
        if (o->status != 11) continue;
        o->status = 0;
        if (auto_fill && o->type == 1) fill_at_last(o);
    }
}

EXPORT int TestSetAccountFile(const char *path) {
    pthread_mutex_lock(&mu);
    snprintf(account_path, sizeof account_path, "%s", path ? path : "");
    FILE *f = account_path[0] ? fopen(account_path, "rb") : NULL;
    if (f) { account_load(f); fclose(f); }
    pthread_mutex_unlock(&mu);
    return f ? 1 : 0;
}

EXPORT void TestSetAutoFill(int32_t on) { auto_fill = on; }
