/* ProfitDLL test double, routing half: SendOrder and friends, order details, accounts, positions,
 * and the order lifecycle the callback thread plays (accept, reject, fills, change, cancel). */
#include "double_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void apply_fill(order_t *o, int64_t qty, double price, int64_t ms) {
    ticker_t *tk = &tickers[o->t];
    o->avg = (o->avg * (double)o->traded + price * (double)qty) / (double)(o->traded + qty);
    o->traded += qty;
    o->status = o->traded >= o->qty ? 2 : 1;
    o->last_ms = ms;
    int64_t signed_q = o->side == 1 ? qty : -qty, p = tk->pos;
    if (p == 0 || (p > 0) == (signed_q > 0)) {
        tk->avg = (tk->avg * (double)llabs(p) + price * (double)qty) / (double)(llabs(p) + qty);
    } else if (llabs(signed_q) > llabs(p)) {
        tk->avg = price;
    } else if (llabs(signed_q) == llabs(p)) {
        tk->avg = 0;
    }
    tk->pos = p + signed_q;
}

void fill_at_last(order_t *o) {
    ticker_t *tk = &tickers[o->t];
    apply_fill(o, o->qty - o->traded, tk->last > 0 ? tk->last : tk->base, clock_ms());
}

void exec_order(cmd_t *c) {
    switch (c->type) {
    case C_ORDER_NEW: {
        order_t *o = find_order(c->a, NULL);
        if (!o) break;
        emit_msg(o, 6, L"sent to broker");
        if (o->status == 8) { emit_msg(o, 7, o->text); emit_order(o); break; }
        o->status = 0;
        emit_msg(o, 10, L"accepted");
        emit_order(o);
        if (c->b > 0 || (auto_fill && o->type == 1)) { /* immediate fill (zero position; auto fill) */
            fill_at_last(o);
            emit_order(o);
        }
        break;
    }
    case C_FILL: {
        order_t *o = find_order(c->a, NULL);
        if (!o || !is_open(o)) break;
        int64_t q = c->b < o->qty - o->traded ? c->b : o->qty - o->traded;
        apply_fill(o, q, c->d, clock_ms());
        emit_order(o);
        break;
    }
    case C_CANCEL: {
        order_t *o = find_order(c->a, NULL);
        if (!o) break;
        if (!is_open(o)) { emit_msg(o, 7, L"order is not open"); break; }
        o->status = 4; o->last_ms = clock_ms();
        emit_msg(o, 10, L"cancel accepted");
        emit_order(o);
        break;
    }
    case C_CHANGE: {
        order_t *o = find_order(c->a, NULL);
        if (!o) break;
        if (!is_open(o)) { emit_msg(o, 7, L"order is not open"); break; }
        if (c->b < o->traded + 1) { emit_msg(o, 7, L"quantity below traded"); break; }
        /* the replace keeps the status: a partially filled order stays partially filled (1) */
        o->price = c->d; o->stop = c->d2; o->qty = c->b; o->last_ms = clock_ms();
        emit_msg(o, 10, L"change accepted");
        emit_order(o);
        break;
    }
    case C_CANCEL_ALL:
        for (int i = 0; i < n_orders; i++) {
            order_t *o = &orders[i];
            if (is_open(o) && (c->t < 0 || o->t == c->t)) { o->status = 4; o->last_ms = clock_ms(); emit_order(o); }
        }
        break;
    }
    account_changed();
}

int n_stops;

/* A stop-limit order triggers when a trade reaches its stop (buy: at or above, sell: at or below); it then
 * fills in full at the trade price if that is within its limit, else it rests at the limit. */
void trigger_stops(int t, double px) {
    for (int i = 0; i < n_orders && n_stops > 0; i++) {
        order_t *o = &orders[i];
        if (o->t != t || o->type != 4 || o->triggered || !is_open(o)) continue;
        int buy = o->side == 1;
        if (buy ? px < o->stop : px > o->stop) continue;
        o->triggered = 1; n_stops--;
        if (buy ? px <= o->price : px >= o->price) { apply_fill(o, o->qty - o->traded, px, clock_ms()); emit_order(o); }
    }
}

/* --- routing --- */
static int routing_guard(void) {
    int r = req_guard();
    if (r) return r;
    return market_only ? NL_MARKET_ONLY : NL_OK;
}

EXPORT int64_t SendOrder(const TConnectorSendOrder *o) {
    int r = routing_guard();
    if (r) return r;
    if (!o) return NL_INVALID_ARGS;
    if (o->Version > 2) return NL_VERSION_NOT_SUPPORTED;
    if (!account_ok(&o->AccountID) || !o->AssetID.Ticker || !o->Password || !o->Password[0]) return NL_INVALID_ARGS;
    if (!valid_exchange(o->AssetID.Exchange)) return NL_EXCHANGE_UNKNOWN;
    int type = o->OrderType, side = o->OrderSide;
    if (o->Version == 0) { /* V0 codes: limit 0 / stop 1 / market 2, buy 0 / sell 1 */
        type = type == 0 ? 2 : type == 1 ? 4 : type == 2 ? 1 : 0;
        side = side + 1;
    }
    if ((type != 1 && type != 2 && type != 4) || (side != 1 && side != 2) || o->Quantity <= 0) return NL_INVALID_ARGS;
    if ((type == 2 || type == 4) && !(o->Price > 0)) return NL_INVALID_ARGS;
    if (type == 4 && !(o->StopPrice > 0)) return NL_INVALID_ARGS; /* stop-limit: a stop price and a limit */
    if (type != 4 && o->StopPrice > 0) return NL_INVALID_ARGS;   /* no stop-market: the DLL refuses it */
    pthread_mutex_lock(&mu);
    if (n_orders >= MAX_ORDERS) { pthread_mutex_unlock(&mu); return NL_OUT_OF_RANGE; }
    int t = ensure_ticker(o->AssetID.Ticker, o->AssetID.Exchange);
    order_t *x = &orders[n_orders++];
    memset(x, 0, sizeof *x);
    x->id = next_local++;
    x->msg_id = next_msg++;
    swprintf(x->cl, 24, L"CL%lld", (long long)x->id);
    x->t = t; x->side = (uint8_t)side; x->type = (uint8_t)type; x->price = o->Price; x->stop = o->StopPrice;
    x->qty = o->Quantity; x->status = 10; x->last_ms = clock_ms();
    if (reject_pending) { x->status = 8; wcsncpy(x->text, reject_next, 127); reject_pending = 0; }
    if (type == 4 && x->status != 8) n_stops++;
    int64_t id = x->id;
    if (o->Version >= 2) ((TConnectorSendOrder *)o)->MessageID = x->msg_id;
    pthread_mutex_unlock(&mu);
    account_changed();
    cmd_t c = {C_ORDER_NEW, 0, id, 0, 0, 0, 0, 0};
    push(c);
    return id;
}

static order_t *order_by_ident(const TConnectorOrderIdentifier *id) {
    return find_order(id->LocalOrderID, id->ClOrderID);
}

EXPORT int SendChangeOrderV2(const TConnectorChangeOrder *o) {
    int r = routing_guard();
    if (r) return r;
    if (!o) return NL_INVALID_ARGS;
    if (o->Version > 1) return NL_VERSION_NOT_SUPPORTED;
    if (!account_ok(&o->AccountID) || !o->Password || o->Quantity <= 0) return NL_INVALID_ARGS;
    pthread_mutex_lock(&mu);
    order_t *x = order_by_ident(&o->OrderID);
    int64_t id = x ? x->id : 0;
    if (x) x->msg_id = next_msg++;
    if (x && o->Version >= 1) ((TConnectorChangeOrder *)o)->MessageID = x->msg_id;
    pthread_mutex_unlock(&mu);
    if (!x) return NL_NOT_FOUND;
    cmd_t c = {C_CHANGE, 0, id, o->Quantity, 0, 0, 0, o->Price, 0, 0, o->StopPrice};
    push(c);
    return NL_OK;
}

EXPORT int SendCancelOrderV2(const TConnectorCancelOrder *o) {
    int r = routing_guard();
    if (r) return r;
    if (!o) return NL_INVALID_ARGS;
    if (o->Version > 1) return NL_VERSION_NOT_SUPPORTED;
    if (!account_ok(&o->AccountID) || !o->Password) return NL_INVALID_ARGS;
    pthread_mutex_lock(&mu);
    order_t *x = order_by_ident(&o->OrderID);
    int64_t id = x ? x->id : 0;
    if (x) x->msg_id = next_msg++;
    if (x && o->Version >= 1) ((TConnectorCancelOrder *)o)->MessageID = x->msg_id;
    pthread_mutex_unlock(&mu);
    if (!x) return NL_NOT_FOUND;
    cmd_t c = {C_CANCEL, 0, id, 0, 0, 0, 0, 0};
    push(c);
    return NL_OK;
}

EXPORT int SendCancelOrdersV2(const TConnectorCancelOrders *o) {
    int r = routing_guard();
    if (r) return r;
    if (!o || o->Version != 0 || !account_ok(&o->AccountID) || !o->AssetID.Ticker) return NL_INVALID_ARGS;
    pthread_mutex_lock(&mu);
    int t = find_ticker(o->AssetID.Ticker);
    pthread_mutex_unlock(&mu);
    if (t < 0) return NL_NOT_FOUND;
    cmd_t c = {C_CANCEL_ALL, t, 0, 0, 0, 0, 0, 0};
    push(c);
    return NL_OK;
}

EXPORT int SendCancelAllOrdersV2(const TConnectorCancelAllOrders *o) {
    int r = routing_guard();
    if (r) return r;
    if (!o || o->Version != 0 || !account_ok(&o->AccountID)) return NL_INVALID_ARGS;
    cmd_t c = {C_CANCEL_ALL, -1, 0, 0, 0, 0, 0, 0};
    push(c);
    return NL_OK;
}

EXPORT int64_t SendZeroPositionV2(const TConnectorZeroPosition *o) {
    int r = routing_guard();
    if (r) return r;
    if (!o) return NL_INVALID_ARGS;
    if (o->Version > 2) return NL_VERSION_NOT_SUPPORTED;
    if (!account_ok(&o->AccountID) || !o->AssetID.Ticker || !o->Password) return NL_INVALID_ARGS;
    if (o->Version >= 1 && o->PositionType != 1 && o->PositionType != 2) return NL_INVALID_ARGS;
    pthread_mutex_lock(&mu);
    int t = find_ticker(o->AssetID.Ticker);
    if (t < 0 || tickers[t].pos == 0 || n_orders >= MAX_ORDERS) { pthread_mutex_unlock(&mu); return NL_NO_POSITION; }
    order_t *x = &orders[n_orders++];
    memset(x, 0, sizeof *x);
    x->id = next_local++;
    x->msg_id = next_msg++;
    swprintf(x->cl, 24, L"CL%lld", (long long)x->id);
    x->t = t; x->side = tickers[t].pos > 0 ? 2 : 1; x->type = 1; x->price = -1; x->stop = -1;
    x->qty = llabs(tickers[t].pos); x->status = 10; x->last_ms = clock_ms();
    int64_t id = x->id;
    if (o->Version >= 2) ((TConnectorZeroPosition *)o)->MessageID = x->msg_id;
    pthread_mutex_unlock(&mu);
    account_changed();
    cmd_t c = {C_ORDER_NEW, 0, id, 1, 0, 0, 0, 0};
    push(c);
    return id;
}

static void fill_out_str(wchar_t *dst, int32_t *len, const wchar_t *src) {
    int32_t need = (int32_t)wcslen(src);
    if (dst && *len > 0) { wcsncpy(dst, src, (size_t)*len); dst[*len - 1 < need ? *len - 1 : need] = 0; }
    *len = need;
}

EXPORT int GetOrderDetails(TConnectorOrderOut *o) {
    if (!on_worker() || in_cb != CB_ORDER) { st_accessor_err++; return NL_INVALID_ARGS; }
    if (!o) return NL_INVALID_ARGS;
    if (o->Version > 1) return NL_VERSION_NOT_SUPPORTED;
    order_t *x = order_by_ident(&o->OrderID);
    if (!x) return NL_NOT_FOUND;
    ticker_t *tk = &tickers[x->t];
    o->AccountID.BrokerID = 308;
    wcsncpy(o->AccountID.AccountID, L"12345", 99); o->AccountID.AccountIDLength = 5;
    o->AccountID.SubAccountID[0] = 0; o->AccountID.SubAccountIDLength = 0;
    fill_out_str(o->AssetID.Ticker, &o->AssetID.TickerLength, tk->name);
    fill_out_str(o->AssetID.Exchange, &o->AssetID.ExchangeLength, tk->exch);
    fill_out_str(o->TextMessage, &o->TextMessageLength, x->text);
    o->Quantity = x->qty; o->TradedQuantity = x->traded; o->LeavesQuantity = is_open(x) ? x->qty - x->traded : 0;
    o->Price = x->price; o->StopPrice = x->stop; o->AveragePrice = x->avg;
    o->OrderSide = x->side; o->OrderType = x->type; o->OrderStatus = x->status; o->ValidityType = 0;
    o->Date = to_st(x->last_ms); o->LastUpdate = to_st(x->last_ms);
    memset(&o->CloseDate, 0, sizeof o->CloseDate); memset(&o->ValidityDate, 0, sizeof o->ValidityDate);
    if (o->Version >= 1) o->EventID = x->msg_id;
    return NL_OK;
}

EXPORT int GetAccountCount(void) {
    int r = routing_guard();
    return r ? r : 1;
}

EXPORT int GetAccounts(int32_t src, int32_t dst, int32_t n, TConnectorAccountIdentifierOut *out) {
    int r = routing_guard();
    if (r) return r;
    if (!out || n < 1 || src != 0 || dst < 0) return n == 0 ? 0 : NL_INVALID_ARGS;
    TConnectorAccountIdentifierOut *a = &out[dst];
    if (a->Version != 0) return NL_VERSION_NOT_SUPPORTED;
    a->BrokerID = 308;
    wcsncpy(a->AccountID, L"12345", 99); a->AccountIDLength = 5;
    a->SubAccountID[0] = 0; a->SubAccountIDLength = 0; a->Reserved = 0;
    return 1;
}

EXPORT int EnumerateAllOrders(const TConnectorAccountIdentifier *acct, uint8_t ver, intptr_t param,
                              TConnectorEnumerateOrdersProc proc) {
    int r = routing_guard();
    if (r) return r;
    if (!account_ok(acct) || !proc) return NL_INVALID_ARGS;
    if (ver > 1) return NL_VERSION_NOT_SUPPORTED;
    for (int i = 0; i < n_orders; i++) {
        order_t x = orders[i];
        wchar_t text[128], cl[24], tick[32], ex[4];
        wcscpy(text, x.text); wcscpy(cl, x.cl); wcscpy(tick, tickers[x.t].name); wcscpy(ex, tickers[x.t].exch);
        TConnectorOrder o;
        memset(&o, 0, sizeof o);
        o.Version = ver; o.OrderID.LocalOrderID = x.id; o.OrderID.ClOrderID = cl;
        o.AccountID.BrokerID = 308; o.AccountID.AccountID = L"12345"; o.AccountID.SubAccountID = L"";
        o.AssetID.Ticker = tick; o.AssetID.Exchange = ex;
        o.Quantity = x.qty; o.TradedQuantity = x.traded; o.LeavesQuantity = is_open(&x) ? x.qty - x.traded : 0;
        o.Price = x.price; o.StopPrice = x.stop; o.AveragePrice = x.avg;
        o.OrderSide = x.side; o.OrderType = x.type; o.OrderStatus = x.status;
        o.Date = to_st(x.last_ms); o.LastUpdate = o.Date; o.TextMessage = text; o.EventID = x.msg_id;
        if (!proc(&o, param)) break;
    }
    return NL_OK;
}

EXPORT int EnumerateAllPositionAssets(const TConnectorAccountIdentifier *acct, uint8_t ver, intptr_t param,
                                      TConnectorEnumerateAssetProc proc) {
    int r = routing_guard();
    if (r) return r;
    if (!account_ok(acct) || !proc) return NL_INVALID_ARGS;
    if (ver > 0) return NL_VERSION_NOT_SUPPORTED;
    for (int i = 0; i < n_tickers; i++) {
        if (tickers[i].pos == 0) continue;
        wchar_t tick[32], ex[4];
        wcscpy(tick, tickers[i].name); wcscpy(ex, tickers[i].exch);
        TConnectorAssetIdentifier a = {0, tick, ex, 0};
        if (!proc(a, param)) break;
    }
    return NL_OK;
}

EXPORT int GetPositionV2(TConnectorTradingAccountPosition *p) {
    int r = routing_guard();
    if (r) return r;
    if (!p || !account_ok(&p->AccountID) || !p->AssetID.Ticker) return NL_INVALID_ARGS;
    if (p->Version > 2) return NL_VERSION_NOT_SUPPORTED;
    /* V1+: PositionType is an input, 1 day trade or 2 consolidated; anything else is refused */
    if (p->Version >= 1 && p->PositionType != 1 && p->PositionType != 2) return NL_INVALID_ARGS;
    int t = find_ticker(p->AssetID.Ticker);
    if (t < 0) return NL_NO_POSITION;
    int64_t q = tickers[t].pos;
    p->OpenQuantity = llabs(q);
    p->OpenSide = q > 0 ? 1 : q < 0 ? 2 : 0;
    p->OpenAveragePrice = tickers[t].avg;
    p->DailyQuantity = q;
    return NL_OK;
}

EXPORT void TestRejectNext(const wchar_t *reason) {
    pthread_mutex_lock(&mu);
    wcsncpy(reject_next, reason, 127); reject_next[127] = 0; reject_pending = 1;
    pthread_mutex_unlock(&mu);
}

EXPORT void TestFill(int64_t local_id, int64_t qty, double price) {
    cmd_t c = {C_FILL, 0, local_id, qty, 0, 0, 0, price};
    push(c);
}

EXPORT int64_t TestSeedOrder(const wchar_t *ticker, const wchar_t *exch, int32_t side, int64_t qty, double price) {
    pthread_mutex_lock(&mu);
    int t = ensure_ticker(ticker, exch);
    order_t *x = &orders[n_orders++];
    memset(x, 0, sizeof *x);
    x->id = next_local++; x->msg_id = next_msg++;
    swprintf(x->cl, 24, L"CL%lld", (long long)x->id);
    x->t = t; x->side = (uint8_t)side; x->type = 2; x->price = price; x->stop = -1; x->qty = qty; x->status = 0;
    x->last_ms = clock_ms();
    int64_t id = x->id;
    pthread_mutex_unlock(&mu);
    account_changed();
    return id;
}

EXPORT void TestSeedPosition(const wchar_t *ticker, const wchar_t *exch, int64_t qty, double avg) {
    pthread_mutex_lock(&mu);
    int t = ensure_ticker(ticker, exch);
    tickers[t].pos = qty; tickers[t].avg = avg;
    pthread_mutex_unlock(&mu);
    account_changed();
}
