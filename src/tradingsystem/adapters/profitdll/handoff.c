/* ProfitDLL trade hand-off without the GIL: the DLL's trade callback (TConnectorTradeCallback) written in C.
 *
 * ``handoff_trade_<k>`` is registered with SetTradeCallbackV2. On the DLL's callback thread it calls
 * TranslateTrade (inside the callback, as the manual requires), interns the ticker, stamps the time and
 * copies one record into slot k's single-producer ring. The engine thread drains the ring in batches
 * (``handoff_drain``). A full ring drops the trade and counts it, in total and per ticker, and flags the
 * ticker's next record (GAP_FLAG), so the engine backfills from the last trade before the hole.
 * ``handoff_wait`` blocks the engine (GIL released by ctypes) until a record or a ``handoff_notify``
 * arrives. Built on first use by ``handoff.py``; no Python headers needed.
 */
#if defined(_WIN32) && !defined(_WIN32_WINNT)
#define _WIN32_WINNT 0x0602 /* GetSystemTimePreciseAsFileTime (Windows 8+); before any header */
#endif
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#ifdef _WIN32
#include <windows.h>
#define EXPORT __declspec(dllexport)
#define DLLCALL __stdcall
#else
#include <pthread.h>
#include <time.h>
#define EXPORT __attribute__((visibility("default")))
#define DLLCALL
#endif

typedef struct { uint16_t wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond, wMilliseconds; } TSystemTime;
typedef struct { uint8_t Version; const wchar_t *Ticker; const wchar_t *Exchange; uint8_t FeedType; }
    TConnectorAssetIdentifier;
typedef struct {
    uint8_t Version; TSystemTime TradeDate; uint32_t TradeNumber; double Price; int64_t Quantity;
    double Volume; int32_t BuyAgent; int32_t SellAgent; uint8_t TradeType;
} TConnectorTrade;
typedef int32_t (DLLCALL *translate_fn)(void *trade, TConnectorTrade *out);

/* One record: the translated trade as TranslateTrade wrote it, then the ticker id, flags and time. */
typedef struct { TConnectorTrade t; uint32_t sym; uint32_t flags; int64_t ts_init; } record_t;

#define SLOTS 16
#define MAX_SYMS 4096 /* power of two: open-addressing table of tickers */
#define NAME_LEN 32
#define NO_SYM 0xFFFFFFFFu
#define GAP_FLAG 0x80000000u /* on a ticker's first record after trades of it were dropped */

typedef struct {
    _Atomic uint64_t head; /* records written (producer) */
    char pad0[56];
    _Atomic uint64_t tail; /* records read (consumer) */
    char pad1[56];
    _Atomic uint64_t dropped;
    _Atomic uint64_t accessor_errors;
    _Atomic uint32_t nsyms;
    _Atomic int waiting;
    int notified;
    uint64_t mask;
    record_t *buf;
    translate_fn translate;
    _Atomic uint64_t sym_dropped[MAX_SYMS];
    int32_t table[MAX_SYMS]; /* hash slot -> ticker id + 1 (0 empty); producer only */
    uint8_t gap[MAX_SYMS];   /* trades of this ticker were dropped since its last record; producer only */
    wchar_t names[MAX_SYMS][NAME_LEN];
#ifdef _WIN32
    SRWLOCK lock;
    CONDITION_VARIABLE cond;
#else
    pthread_mutex_t lock;
    pthread_cond_t cond;
#endif
} ring_t;

static ring_t *slots[SLOTS];

static int64_t now_ns(void) {
#ifdef _WIN32
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime; /* 100 ns since 1601 */
    return (int64_t)(t - 116444736000000000ULL) * 100;
#else
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
#endif
}

static uint32_t intern(ring_t *r, const wchar_t *name) {
    if (!name) return NO_SYM;
    uint32_t h = 2166136261u;
    size_t len = 0;
    for (; name[len] && len < NAME_LEN - 1; len++) h = (h ^ (uint32_t)name[len]) * 16777619u;
    if (name[len]) return NO_SYM; /* longer than any B3 ticker */
    for (uint32_t i = 0; i < MAX_SYMS; i++) {
        uint32_t at = (h + i) & (MAX_SYMS - 1);
        int32_t id = r->table[at] - 1;
        if (id < 0) {
            uint32_t n = atomic_load_explicit(&r->nsyms, memory_order_relaxed);
            if (n >= MAX_SYMS / 2) return NO_SYM; /* keep the table half empty */
            wmemcpy(r->names[n], name, len);
            r->names[n][len] = 0;
            r->table[at] = (int32_t)n + 1;
            atomic_store_explicit(&r->nsyms, n + 1, memory_order_release); /* name visible before the id */
            return n;
        }
        if (wcsncmp(r->names[id], name, NAME_LEN) == 0) return (uint32_t)id;
    }
    return NO_SYM;
}

static void wake(ring_t *r) {
#ifdef _WIN32
    AcquireSRWLockExclusive(&r->lock);
    r->notified = 1;
    WakeAllConditionVariable(&r->cond);
    ReleaseSRWLockExclusive(&r->lock);
#else
    pthread_mutex_lock(&r->lock);
    r->notified = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
#endif
}

static void push(ring_t *r, const TConnectorAssetIdentifier *asset, void *trade, uint32_t flags) {
    if (!r) return;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint32_t sym = intern(r, asset->Ticker);
    if (head - tail > r->mask) { /* full: never wait on the DLL's thread; count it per ticker */
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        if (sym != NO_SYM) {
            r->gap[sym] = 1;
            atomic_fetch_add_explicit(&r->sym_dropped[sym], 1, memory_order_release);
        }
        return;
    }
    record_t *rec = &r->buf[head & r->mask];
    memset(&rec->t, 0, sizeof rec->t);
    rec->t.Version = 0;
    if (r->translate(trade, &rec->t) != 0) {
        atomic_fetch_add_explicit(&r->accessor_errors, 1, memory_order_relaxed);
        return;
    }
    rec->sym = sym;
    rec->flags = flags;
    if (sym != NO_SYM && r->gap[sym]) {
        rec->flags |= GAP_FLAG;
        r->gap[sym] = 0;
    }
    rec->ts_init = now_ns();
    atomic_store_explicit(&r->head, head + 1, memory_order_seq_cst);
    if (atomic_load_explicit(&r->waiting, memory_order_seq_cst)) wake(r);
}

#define TRAMPOLINE(k) \
    EXPORT void DLLCALL handoff_trade_##k(TConnectorAssetIdentifier a, void *p, uint32_t f) { push(slots[k], &a, p, f); }
TRAMPOLINE(0) TRAMPOLINE(1) TRAMPOLINE(2) TRAMPOLINE(3) TRAMPOLINE(4) TRAMPOLINE(5) TRAMPOLINE(6) TRAMPOLINE(7)
TRAMPOLINE(8) TRAMPOLINE(9) TRAMPOLINE(10) TRAMPOLINE(11) TRAMPOLINE(12) TRAMPOLINE(13) TRAMPOLINE(14)
TRAMPOLINE(15)

EXPORT int32_t handoff_record_size(void) { return (int32_t)sizeof(record_t); }
EXPORT int32_t handoff_slots(void) { return SLOTS; }

/* Open slot ``k`` with room for ``capacity`` records (rounded up to a power of two); 0 on success. */
EXPORT int32_t handoff_open(int32_t k, uint64_t capacity, translate_fn translate) {
    if (k < 0 || k >= SLOTS || slots[k] || !translate) return -1;
    uint64_t cap = 16;
    while (cap < capacity) cap <<= 1;
    ring_t *r = calloc(1, sizeof *r);
    if (!r) return -2;
    r->buf = calloc(cap, sizeof(record_t));
    if (!r->buf) { free(r); return -2; }
    r->mask = cap - 1;
    r->translate = translate;
#ifdef _WIN32
    InitializeSRWLock(&r->lock);
    InitializeConditionVariable(&r->cond);
#else
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
#endif
    slots[k] = r;
    return 0;
}

/* Stop accepting into slot ``k`` (its trampoline then does nothing); the ring stays readable. */
EXPORT void handoff_close(int32_t k) {
    if (k >= 0 && k < SLOTS) slots[k] = NULL;
}

/* Free a ring closed with ``handoff_close`` once nothing reads it (after DLLFinalize has returned). */
EXPORT void handoff_free(ring_t *r) {
    if (!r) return;
    for (int k = 0; k < SLOTS; k++) if (slots[k] == r) return; /* still open: refuse */
#ifndef _WIN32
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
#endif
    free(r->buf);
    free(r);
}

EXPORT ring_t *handoff_ring(int32_t k) { return k >= 0 && k < SLOTS ? slots[k] : NULL; }

/* Copy up to ``max`` records into ``out``; returns how many (engine thread only). */
EXPORT int64_t handoff_drain(ring_t *r, record_t *out, int64_t max) {
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t n = head - tail;
    if (n > (uint64_t)max) n = (uint64_t)max;
    uint64_t at = tail & r->mask, first = r->mask + 1 - at;
    if (first > n) first = n;
    memcpy(out, &r->buf[at], first * sizeof(record_t));
    memcpy(out + first, r->buf, (n - first) * sizeof(record_t));
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    return (int64_t)n;
}

/* Counters: 0 written, 1 read, 2 dropped, 3 accessor errors, 4 tickers seen. */
EXPORT uint64_t handoff_stat(ring_t *r, int32_t which) {
    switch (which) {
    case 0: return atomic_load(&r->head);
    case 1: return atomic_load(&r->tail);
    case 2: return atomic_load(&r->dropped);
    case 3: return atomic_load(&r->accessor_errors);
    case 4: return atomic_load(&r->nsyms);
    default: return 0;
    }
}

/* Ticker ``id`` into ``out`` (``len`` wide chars); drops counted for it so far, or -1 for an unknown id. */
EXPORT int64_t handoff_symbol(ring_t *r, uint32_t id, wchar_t *out, int32_t len) {
    if (id >= atomic_load_explicit(&r->nsyms, memory_order_acquire) || len <= 0) return -1;
    wcsncpy(out, r->names[id], (size_t)len - 1);
    out[len - 1] = 0;
    return (int64_t)atomic_load_explicit(&r->sym_dropped[id], memory_order_acquire);
}

/* Wake a ``handoff_wait`` (any thread: the Python callbacks call it after queueing other events). */
EXPORT void handoff_notify(ring_t *r) { wake(r); }

EXPORT void handoff_clear(ring_t *r) {
#ifdef _WIN32
    AcquireSRWLockExclusive(&r->lock);
    r->notified = 0;
    ReleaseSRWLockExclusive(&r->lock);
#else
    pthread_mutex_lock(&r->lock);
    r->notified = 0;
    pthread_mutex_unlock(&r->lock);
#endif
}

/* Block until a record is waiting, a notify came, or ``timeout_s`` passed; 1 when woken. */
EXPORT int32_t handoff_wait(ring_t *r, double timeout_s) {
    int woke;
#ifdef _WIN32
    DWORD ms = timeout_s <= 0 ? 0 : (DWORD)(timeout_s * 1000.0 + 0.5);
    ULONGLONG until = GetTickCount64() + ms;
    AcquireSRWLockExclusive(&r->lock);
    atomic_store(&r->waiting, 1);
    for (;;) {
        woke = r->notified || atomic_load(&r->head) != atomic_load(&r->tail);
        ULONGLONG now = GetTickCount64();
        if (woke || now >= until) break;
        SleepConditionVariableSRW(&r->cond, &r->lock, (DWORD)(until - now), 0);
    }
    atomic_store(&r->waiting, 0);
    ReleaseSRWLockExclusive(&r->lock);
#else
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (timeout_s < 0) timeout_s = 0;
    int64_t add = (int64_t)(timeout_s * 1e9);
    until.tv_sec += (time_t)(add / 1000000000LL);
    until.tv_nsec += (long)(add % 1000000000LL);
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->waiting, 1);
    for (;;) {
        woke = r->notified || atomic_load(&r->head) != atomic_load(&r->tail);
        if (woke || pthread_cond_timedwait(&r->cond, &r->lock, &until) != 0) break;
    }
    woke = r->notified || atomic_load(&r->head) != atomic_load(&r->tail);
    atomic_store(&r->waiting, 0);
    pthread_mutex_unlock(&r->lock);
#endif
    return woke;
}
