"""Agent order flow for the simulated market: fair values with stochastic volatility, Hawkes arrivals.

Fair values (log prices) load on a common factor (Ibovespa-like; WDO loads negatively), each some
seconds behind it (lead-lag: futures first, stocks follow), plus idiosyncratic noise. The factor and
every instrument's own noise are unit random walks whose variance is the product of an intraday
seasonality (high at the stock open, a smaller rise before the closing call), a log-normal level per
session, a per-minute GARCH(1,1) and a slow log-normal factor; news bursts add Student-t jumps and faster
flow. The price level agents trade around also carries a transient deviation (an Ornstein-Uhlenbeck
process of ``vol.micro_noise`` one-minute standard deviations, ``vol.micro_seconds`` long): a small
bounce at one minute, nothing left at five. Nothing diffuses while the market is closed: each new
session starts with a drawn overnight gap instead.

Each instrument's agent actions arrive as a Hawkes process (a fast and a slow exponential kernel) over
a base rate that follows the intraday U-shape of activity and the volatility level. An action is one of:

- market maker: keeps ``mm_levels`` quotes a side around the fair value, re-quoting what moved;
- noise limit: a passive limit a geometric number of ticks behind the touch;
- taker: a marketable IOC limit (market with protection); most are children of a metaorder, so signs
  persist for a Pareto number of children; sizes are log-normal (heavy tailed);
- momentum: a larger marketable IOC in the direction of the last minute's move;
- cancel: pulls a random resting noise order (far ones always).

In call auctions agents post limits scattered around the fair value; the closing call also gets the
day's closing volume (``closing_share``) as crossing orders on both sides. All randomness comes from
one ``random.Random(seed)``.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date

import numpy as np

from tradingsystem.backtest.matching import BUY, DAY, IOC, LIMIT, SELL, MatchingEngine, RestingOrder
from tradingsystem.domain.instruments import AssetClass, Instrument
from tradingsystem.domain.sessions import Phase, hours_for

from .config import InstrumentParams, SimMarketConfig

NS = 1_000_000_000
MIN_NS = 60 * NS
_TZ_OFFSET_S = -3 * 3600
_ACTIVE = (Phase.OPENING_CALL, Phase.CONTINUOUS, Phase.CLOSING_CALL)
_H_MAX = 40.0  # cap of the GARCH variance level
_LAG_KEEP_S = 3600  # factor history kept for lagged instruments
BROKERS: tuple[int, ...] = (3, 8, 13, 15, 16, 27, 40, 45, 72, 85, 86, 90, 107, 114, 120, 127, 238, 308, 386,
                            1099, 1982)
"""B3 participant codes agents trade through (XP, UBS, BofA, Santander, Morgan Stanley, BTG, Itaú, ...)."""


def _minute(ts: int) -> int:
    return ((ts // NS + _TZ_OFFSET_S) % 86400) // 60


class VolPath:
    """A random walk with one unit of variance per session, integrated piecewise between events."""

    __slots__ = ("acc_r", "acc_v", "h", "m_end", "share", "t")

    def __init__(self, t: int) -> None:
        self.h = 1.0
        self.share = 1.0  # of the session's variance that diffuses (the factor leaves some to news jumps)
        self.restart(t)

    def restart(self, t: int) -> None:
        """Resume at ``t`` without diffusing over the time since the last advance (a closed market)."""
        self.t = t
        self.m_end = (t // MIN_NS + 1) * MIN_NS
        self.acc_r = 0.0
        self.acc_v = 0.0


class InstrumentSim:
    """Per-instrument generator state."""

    __slots__ = (
        "active", "b", "c", "day_vol0", "ef", "engine", "es", "et", "eta", "eta_t", "eta_var", "fs", "gap_var",
        "idio", "inst", "lag", "lot", "meta_left", "meta_side", "mm_asks", "mm_bids", "mom_ref", "mom_ts", "next_t",
        "p", "phase", "rate", "resting", "size_median", "size_sigma", "symbol", "tick", "weight", "x",
    )

    def __init__(self, inst: Instrument, engine: MatchingEngine, start_raw: int, p: InstrumentParams,
                 weight: float, t0: int) -> None:
        self.inst = inst
        self.symbol = inst.symbol
        self.engine = engine
        self.tick = inst.tick
        self.lot = inst.lot
        self.p = p
        self.weight = weight
        self.b = p.beta_sign * p.vol_daily * math.sqrt(1.0 - p.idio_share)  # factor loading
        self.c = p.vol_daily * math.sqrt(p.idio_share)  # own noise
        self.gap_var = p.gap_share / (1.0 - p.gap_share)  # gap variance over the open-to-close variance
        self.lag = round(p.lag_seconds)  # seconds behind the factor (futures lead, stocks follow)
        self.x = math.log(start_raw / inst.tick)  # log of the fair value in ticks
        self.fs = 0.0  # the factor as this instrument has absorbed it so far
        self.eta = 0.0  # transient deviation of the traded price level from the fair value (log)
        self.eta_t = t0
        self.eta_var = 0.0  # its variance over a one-minute variance of 1 (``vol.micro_noise`` squared)
        self.idio = VolPath(t0)
        self.phase = Phase.CLOSED
        self.active = False
        self.mm_bids: dict[int, RestingOrder] = {}
        self.mm_asks: dict[int, RestingOrder] = {}
        self.resting: list[RestingOrder] = []
        self.mom_ref = 0
        self.mom_ts = t0
        self.size_median = p.median_lots
        self.size_sigma = p.size_sigma
        self.meta_left = 0
        self.meta_side = BUY
        self.rate = 0.0  # base arrival rate, actions per second
        self.ef = self.es = 0.0  # Hawkes excitation (actions per second) at ``et``
        self.et = t0
        self.next_t = 0
        self.day_vol0 = 0

    def fair_ticks(self) -> float:
        return math.exp(self.x + self.eta)


class MarketGenerator:
    """Draws each instrument's next agent action and performs it on the matching engines."""

    def __init__(self, config: SimMarketConfig, engines: Sequence[MatchingEngine], start_ns: int) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self._normals = np.random.default_rng(config.seed)
        self._z: list[float] = []
        self.sims: dict[str, InstrumentSim] = {}
        for eng in engines:
            inst = eng.instrument
            start = inst.round_to_tick(int(config.start_price(inst.symbol, inst.root).scaleb(inst.scale)))
            self.sims[inst.symbol] = InstrumentSim(
                inst, eng, max(start, inst.tick), config.params(inst.symbol, inst.root),
                config.weight(inst.symbol, inst.root), start_ns)
        self.total_weight = sum(s.weight for s in self.sims.values()) or 1.0
        flow, vol = config.flow, config.vol
        self._fast = 1.0 / flow.fast_seconds
        self._slow = 1.0 / flow.slow_seconds
        self._kick_fast = flow.fast_branching * self._fast
        self._kick_slow = flow.slow_branching * self._slow
        self._n_fast, self._n_slow = flow.fast_branching, flow.slow_branching
        self._branching = flow.fast_branching + flow.slow_branching
        self._base = config.events_per_second * (1.0 - self._branching)
        self._micro = 1.0 / (vol.micro_seconds * NS)
        for s in self.sims.values():
            s.rate = self._base * s.weight / self.total_weight
            s.eta_var = (vol.micro_noise * s.p.vol_daily) ** 2
        self._ga, self._gb = vol.garch_alpha, vol.garch_beta
        self._vol_activity = flow.vol_activity
        self._slow_level = self.rng.gauss(0.0, vol.slow_sd)
        self.factor = 0.0
        self.factor_path = VolPath(start_ns)
        self._hist_t: list[int] = [start_ns // NS]
        self._hist_f: list[float] = [0.0]
        self._hist_last = start_ns // NS
        self.day: date | None = None
        self.day_mult = 1.0
        self._rate_ns = 1.0 / (7 * 3600 * NS)  # variance per ns at a midday level of 1
        self._season: list[float] = [1.0] * 1440
        self._arrive: list[float] = [1.0] * 1440
        mix = config.agents
        parts = [mix.market_maker, mix.noise_limit, mix.noise_market, mix.momentum, mix.cancel]
        total = sum(parts) or 1.0
        acc, self._mix_cum = 0.0, []
        for p in parts:
            acc += p / total
            self._mix_cum.append(acc)
        self._n_active = 0
        self._closed_at = start_ns
        self._heap: list[tuple[int, int, InstrumentSim]] = []
        self._serial = 0
        self.next_ts: int | None = None
        self.burst_until = 0
        self.burst_mult = 1.0
        self.next_burst = self._draw_burst_gap(start_ns)
        self.events = 0

    # ----------------------------------------------------------------- sessions
    def new_day(self, day: date, now: int, first: bool = False) -> None:
        """A new session: this day's seasonality and volatility level, and (after the first) the gap."""
        vol, rng = self.config.vol, self.rng
        hours = hours_for(AssetClass.STOCK, day)
        open_m = hours.continuous.hour * 60 + hours.continuous.minute
        close_m = hours.closing_call.hour * 60 + hours.closing_call.minute if hours.closing_call else open_m + 420
        tau = vol.tau_minutes
        season = [vol.offhours] * 1440
        for m in range(open_m, close_m):
            season[m] = 1.0 + vol.open_boost * math.exp(-(m - open_m) / tau) + \
                vol.close_boost * math.exp(-(close_m - 1 - m) / tau)
        mean = sum(season[open_m:close_m]) / max(1, close_m - open_m)
        slow = self._slow_path()
        self._season = [v / mean * f for v, f in zip(season, slow, strict=True)]
        minutes = close_m - open_m
        cfg_jumps = self.config.burst_rate_per_hour * minutes / 60.0 * vol.jump_size ** 2 / minutes
        self._rate_ns = 1.0 / (minutes * MIN_NS)
        share = max(0.2, 1.0 - cfg_jumps)  # news jumps carry the rest of the factor's variance
        self.factor_path.share = share
        for s in self.sims.values():  # own noise diffuses as much (the 1-min correlations stay the real ones)
            s.idio.share = share
        cfg = self.config
        tau_u = cfg.u_tau_minutes
        arrive = [1.0] * 1440
        for m in range(1440):
            u = 1.0
            if m >= 540:  # 09:00 futures open
                u += cfg.open_boost * math.exp(-(m - 540) / tau_u)
            if m >= open_m:  # the stock open
                u += 0.75 * cfg.open_boost * math.exp(-(m - open_m) / tau_u)
            u += cfg.close_boost * math.exp(-abs(close_m - m) / tau_u)  # the stock closing call
            arrive[m] = u * slow[m] ** self._vol_activity
        self._arrive = arrive
        sd = vol.day_vol_sd
        self.day_mult = math.exp(rng.gauss(-0.5 * sd * sd, sd))
        if not first and self.day is not None:
            w = vol.weekend_gap if (day - self.day).days > 1 else 1.0
            g = w * self._student(5.0)
            self.factor += g
            for s in self.sims.values():
                # calm nights in calm times (damped: a square root of the slow factor)
                scale = math.sqrt(s.gap_var * self.day_mult * self.factor_path.h * math.sqrt(slow[open_m]))
                s.x += scale * (s.b * g + s.c * math.sqrt(share) * w * self._student(5.0))
                s.fs += g
            self._hist_t, self._hist_f = [now // NS], [self.factor]  # lagged instruments see the gap at once
            self._hist_last = now // NS
        self.day = day

    def _slow_path(self) -> list[float]:
        """This day's slow variance factor by minute: a log-normal AR(1) of mean 1 (volatility that
        clusters over hours, beside the per-minute GARCH), continued from the day before."""
        vol, gauss = self.config.vol, self.rng.gauss
        sd = vol.slow_sd
        phi = math.exp(-1.0 / vol.slow_minutes)
        shock = sd * math.sqrt(1.0 - phi * phi)
        level, half = self._slow_level, 0.5 * sd * sd
        out = []
        for _ in range(1440):
            level = phi * level + shock * gauss(0.0, 1.0)
            out.append(math.exp(level - half))
        self._slow_level = level
        return out

    def _normal(self) -> float:
        """A standard normal draw from a seeded block (much cheaper than ``random.gauss``)."""
        z = self._z
        if not z:
            z.extend(self._normals.standard_normal(8192).tolist())
        return z.pop()

    def _student(self, df: float) -> float:
        """A Student-t draw scaled to unit variance."""
        chi = self.rng.gammavariate(df / 2.0, 2.0)
        return self.rng.gauss(0.0, 1.0) / math.sqrt(chi / df) * math.sqrt((df - 2.0) / df)

    # ----------------------------------------------------------------- schedule
    def _draw_burst_gap(self, now: int) -> int:
        rate = self.config.burst_rate_per_hour / 3600.0
        if rate <= 0:
            return 1 << 62
        return now + int(self.rng.expovariate(rate) * NS)

    def _intensity(self, sim: InstrumentSim, now: int) -> float:
        """Base arrival rate of ``sim`` at ``now`` (actions per second, before self-excitation)."""
        level: float = self.factor_path.h ** self._vol_activity
        return sim.rate * self._arrive[_minute(now)] * self.burst_mult * level

    def _schedule(self, sim: InstrumentSim, now: int) -> None:
        """Draw ``sim``'s next action after ``now`` by thinning its Hawkes intensity."""
        rng = self.rng
        mu = self._intensity(sim, now)
        el = (now - sim.et) / NS
        ef = sim.ef * math.exp(-el * self._fast)
        es = sim.es * math.exp(-el * self._slow)
        sim.ef, sim.es, sim.et = ef, es, now
        t = now
        while True:
            lam = mu + ef + es
            if lam <= 0:
                return
            dt = rng.expovariate(lam)
            ef *= math.exp(-dt * self._fast)
            es *= math.exp(-dt * self._slow)
            t += 1 + int(dt * NS)
            if rng.random() * lam <= mu + ef + es:
                break
        sim.next_t = t
        self._serial += 1
        heapq.heappush(self._heap, (t, self._serial, sim))

    def _refresh_next(self) -> None:
        heap = self._heap
        while heap:
            t, _, sim = heap[0]
            if sim.active and sim.next_t == t:
                self.next_ts = t
                return
            heapq.heappop(heap)
        self.next_ts = None

    def _start_burst(self, now: int) -> None:
        cfg = self.config
        self.burst_mult = cfg.burst_multiplier
        self.burst_until = now + int(self.rng.expovariate(1.0 / cfg.burst_mean_seconds) * NS)
        self._advance_factor(now)
        p = self.factor_path
        minute_sd = math.sqrt(self._season[_minute(now)] * p.h * p.share * self.day_mult * self._rate_ns * MIN_NS)
        self.factor += cfg.vol.jump_size * minute_sd * self._student(cfg.vol.jump_df)
        self.next_burst = self._draw_burst_gap(self.burst_until)

    def set_phase(self, symbol: str, phase: Phase, now: int) -> None:
        sim = self.sims[symbol]
        was = sim.active
        sim.phase = phase
        sim.active = phase in _ACTIVE
        if sim.active and not was:
            if self._n_active == 0:  # the market reopens: no diffusion and no news over the closed time
                self.factor_path.restart(now)
                self.next_burst += max(0, now - self._closed_at)
                self.burst_until = 0
            self._n_active += 1
            sim.idio.restart(now)
            mean = self._intensity(sim, now) / (1.0 - self._branching)  # start the Hawkes process warm
            sim.ef, sim.es, sim.et = self._n_fast * mean, self._n_slow * mean, now
            sim.day_vol0 = sim.engine.volume
        elif was and not sim.active:
            self._n_active -= 1
            if self._n_active == 0:
                self._closed_at = now
        if phase == Phase.CLOSED:
            sim.mm_bids.clear()
            sim.mm_asks.clear()
            sim.resting.clear()
        elif phase == Phase.CLOSING_CALL:
            self._closing_orders(sim, now)
        if sim.active:
            self._schedule(sim, now)
        self._refresh_next()

    # ----------------------------------------------------------------- fair values
    def _advance(self, p: VolPath, now: int) -> float:
        """Integrate ``p`` from its last time to ``now``; returns the increment (GARCH per minute)."""
        t = p.t
        if now <= t:
            return 0.0
        inc = 0.0
        normal = self._normal
        season, rate = self._season, self._rate_ns * self.day_mult * p.share
        while True:
            end = now if now < p.m_end else p.m_end
            var = season[_minute(t)] * p.h * rate * (end - t)
            d = math.sqrt(var) * normal()
            inc += d
            p.acc_r += d
            p.acc_v += var
            t = end
            if end < p.m_end:
                break
            if p.acc_v > 0:
                h = (1.0 - self._ga - self._gb) + self._ga * p.acc_r * p.acc_r * p.h / p.acc_v + self._gb * p.h
                p.h = h if h < _H_MAX else _H_MAX
            p.acc_r = p.acc_v = 0.0
            p.m_end += MIN_NS
            if end >= now:
                break
        p.t = now
        return inc

    def _advance_factor(self, now: int) -> None:
        self.factor += self._advance(self.factor_path, now)
        sec = now // NS
        if sec != self._hist_last:  # the factor's path by second, for instruments that follow it late
            self._hist_last = sec
            self._hist_t.append(sec)
            self._hist_f.append(self.factor)
            if len(self._hist_t) > 4096 and self._hist_t[2048] < sec - _LAG_KEEP_S:
                del self._hist_t[:2048], self._hist_f[:2048]
        else:
            self._hist_f[-1] = self.factor

    def _factor_at(self, lag_s: int, now: int) -> float:
        """The factor ``lag_s`` seconds ago (its value at the last action up to then)."""
        if lag_s <= 0:
            return self.factor
        i = bisect_right(self._hist_t, now // NS - lag_s) - 1
        return self._hist_f[i if i >= 0 else 0]

    def _update_fair(self, sim: InstrumentSim, now: int) -> float:
        self._advance_factor(now)
        fs = self._factor_at(sim.lag, now)
        sim.x += sim.b * (fs - sim.fs) + sim.c * self._advance(sim.idio, now)
        sim.fs = fs
        if sim.eta_var > 0:  # microstructure noise: an OU deviation with a share of the minute's variance
            decay = math.exp(-(now - sim.eta_t) * self._micro)
            p = self.factor_path
            var = sim.eta_var * self._season[_minute(now)] * p.h * self.day_mult * self._rate_ns * MIN_NS
            sim.eta = sim.eta * decay + math.sqrt(var * (1.0 - decay * decay)) * self._normal()
            sim.eta_t = now
        return math.exp(sim.x + sim.eta)

    # ----------------------------------------------------------------- actions
    def step(self, now: int) -> None:
        """Perform the action due at ``now`` and draw that instrument's next one."""
        self.events += 1
        heap = self._heap
        if not heap:
            self.next_ts = None
            return
        _, _, sim = heapq.heappop(heap)
        if now >= self.burst_until and self.burst_mult != 1.0:
            self.burst_mult = 1.0
        if now >= self.next_burst:
            self._start_burst(now)
        rng = self.rng
        fv = self._update_fair(sim, now)
        if sim.phase is Phase.CONTINUOUS:
            r = rng.random()
            cum = self._mix_cum
            if r < cum[0]:
                self._market_maker(sim, fv, now)
            elif r < cum[1]:
                self._noise_limit(sim, fv, now)
            elif r < cum[2]:
                self._noise_market(sim, fv, now)
            elif r < cum[3]:
                self._momentum(sim, fv, now)
            else:
                self._cancel(sim, fv, now)
        else:
            r = rng.random()
            if r < 0.25:
                self._market_maker(sim, fv, now)
            elif r < 0.85:
                self._auction_limit(sim, fv, now)
            else:
                self._cancel(sim, fv, now)
        el = (now - sim.et) / NS
        sim.ef = sim.ef * math.exp(-el * self._fast) + self._kick_fast
        sim.es = sim.es * math.exp(-el * self._slow) + self._kick_slow
        sim.et = now
        self._schedule(sim, now)
        self._refresh_next()

    def _qty(self, sim: InstrumentSim, scale: float = 1.0) -> int:
        lots = sim.size_median * scale * math.exp(sim.size_sigma * self._normal())
        return sim.lot * (1 + int(lots) if lots < 5000 else 5000)

    def _depth_qty(self, sim: InstrumentSim, k: int) -> int:
        """Market-maker and resting sizes: heavy tailed like takers', larger away from the touch."""
        lots = sim.size_median * (2.0 + k) * math.exp(sim.size_sigma * self._normal())
        return sim.lot * (1 + int(lots) if lots < 5000 else 5000)

    def _broker(self) -> int:
        return BROKERS[int(self.rng.random() * len(BROKERS))]

    def _market_maker(self, sim: InstrumentSim, fv: float, now: int) -> None:
        """Re-centre the quotes on the fair value; a new quote may take stale orders on the other side
        (that is how the book catches up with the fair value)."""
        eng, tick, levels = sim.engine, sim.tick, self.config.mm_levels
        bid0 = math.floor(fv)
        ask0 = bid0 + 1
        sides = []
        for book, first, step, side in ((sim.mm_bids, bid0, -1, BUY), (sim.mm_asks, ask0, 1, SELL)):
            want = {(first + step * k) * tick: k for k in range(levels)}
            for price, order in list(book.items()):
                if price not in want or not order.live:
                    if order.live:
                        eng.cancel(order, now)
                    del book[price]
            sides.append((book, side, want))
        for book, side, want in sides:  # both sides' stale quotes are gone before any new one can cross
            for price, k in want.items():
                if price not in book and price > 0:
                    o = eng.submit(side, LIMIT, self._depth_qty(sim, k), price, 0, DAY, self._broker(), now)
                    if o.live:
                        book[price] = o

    def _noise_limit(self, sim: InstrumentSim, fv: float, now: int) -> None:
        rng = self.rng
        k = 1 + int(rng.expovariate(0.3))  # behind the touch: the market makers own it
        base = math.floor(fv)
        if rng.random() < 0.5:
            side, price = BUY, (base - k) * sim.tick
        else:
            side, price = SELL, (base + 1 + k) * sim.tick
        if price <= 0:
            return
        o = sim.engine.submit(side, LIMIT, self._depth_qty(sim, k), price, 0, DAY, self._broker(), now)
        if o.live:
            sim.resting.append(o)
            if len(sim.resting) > self.config.max_resting_per_instrument:
                self._cancel(sim, fv, now)

    def _take(self, sim: InstrumentSim, side: int, qty: int, now: int) -> None:
        eng = sim.engine
        if side == BUY:
            best = eng.best_ask
            price = best + sim.tick if best else 0
        else:
            best = eng.best_bid
            price = best - sim.tick if best else 0
        if price > 0:
            eng.submit(side, LIMIT, qty, price, 0, IOC, self._broker(), now)
            fv = sim.fair_ticks()
            touch = eng.best_ask if side == BUY else eng.best_bid
            if not touch or abs(touch / sim.tick - fv) > 1.0:  # market makers refill a consumed touch at once
                self._market_maker(sim, fv, now)

    def _lean(self, sim: InstrumentSim, fv: float) -> float:
        """Probability that an uninformed taker buys: leaning towards the fair value."""
        eng = sim.engine
        bb, ba = eng.best_bid, eng.best_ask
        if bb and ba:
            mid = (bb + ba) / (2.0 * sim.tick)
            return min(0.85, max(0.15, 0.5 + 0.35 * (fv - mid)))
        return 0.5

    def _noise_market(self, sim: InstrumentSim, fv: float, now: int) -> None:
        rng = self.rng
        p_buy = self._lean(sim, fv)
        if rng.random() < self.config.flow.meta_share:
            if sim.meta_left <= 0:
                sim.meta_side = BUY if rng.random() < p_buy else SELL
                sim.meta_left = int(rng.paretovariate(self.config.flow.meta_tail))
            sim.meta_left -= 1
            side = sim.meta_side
        else:
            side = BUY if rng.random() < p_buy else SELL
        flow = self.config.flow
        if rng.random() < flow.block_share:
            self._block(sim, side, self._qty(sim, 4.0 * rng.paretovariate(flow.block_tail)), now)
        else:
            self._take(sim, side, self._qty(sim), now)

    def _block(self, sim: InstrumentSim, side: int, qty: int, now: int) -> None:
        """A block print: its counterparty rests the whole size at the touch just before it is taken."""
        eng = sim.engine
        touch = eng.best_ask if side == BUY else eng.best_bid
        if touch:
            o = eng.submit(SELL if side == BUY else BUY, LIMIT, qty, touch, 0, DAY, self._broker(), now)
            if o.live:
                sim.resting.append(o)
        self._take(sim, side, qty, now)

    def _momentum(self, sim: InstrumentSim, fv: float, now: int) -> None:
        last = sim.engine.last_price
        if now - sim.mom_ts > 60 * NS or not sim.mom_ref:
            sim.mom_ref, sim.mom_ts = last, now
        if not last or last == sim.mom_ref:
            self._noise_market(sim, fv, now)
            return
        side = BUY if last > sim.mom_ref else SELL
        self._take(sim, side, self._qty(sim, 2.0), now)

    def _cancel(self, sim: InstrumentSim, fv: float, now: int) -> None:
        rest = sim.resting
        rng = self.rng
        for _ in range(3):
            if not rest:
                return
            i = int(rng.random() * len(rest))
            o = rest[i]
            rest[i] = rest[-1]
            rest.pop()
            if not o.live:
                continue
            far = abs(o.price / sim.tick - fv) > 12
            if far or rng.random() < 0.6:
                sim.engine.cancel(o, now)
            else:
                rest.append(o)
            return

    def _auction_limit(self, sim: InstrumentSim, fv: float, now: int) -> None:
        rng = self.rng
        price = round(fv + rng.gauss(0.0, 3.0)) * sim.tick
        if price <= 0:
            return
        side = BUY if rng.random() < 0.5 else SELL
        o = sim.engine.submit(side, LIMIT, self._qty(sim), price, 0, DAY, self._broker(), now)
        if o.live:
            sim.resting.append(o)

    def _closing_orders(self, sim: InstrumentSim, now: int) -> None:
        """Crossing orders for the closing call: ``closing_share`` of the day's volume on each side."""
        share = sim.p.closing_share
        day_volume = sim.engine.volume - sim.day_vol0
        if share <= 0 or day_volume <= 0:
            return
        rng = self.rng
        target = share / (1.0 - share) * day_volume
        fv = self._update_fair(sim, now)
        for side, sign in ((BUY, 1), (SELL, -1)):
            total = target * math.exp(rng.gauss(0.0, 0.15))
            weights = [math.exp(1.2 * rng.gauss(0.0, 1.0)) for _ in range(12)]
            scale = total / sum(weights)
            for w in weights:
                qty = sim.lot * max(1, round(w * scale / sim.lot))
                price = round(fv + sign * abs(rng.gauss(0.0, 2.0))) * sim.tick
                if price > 0:  # kept off ``resting``: noise cancels do not pull the closing volume
                    sim.engine.submit(side, LIMIT, qty, price, 0, DAY, self._broker(), now)

    def seed_book(self, symbol: str, now: int, levels: int = 15) -> None:
        """Give an instrument that starts mid-session a book: market-maker quotes plus resting depth."""
        sim = self.sims[symbol]
        fv = self._update_fair(sim, now)
        self._market_maker(sim, fv, now)
        base = math.floor(fv)
        rng = self.rng
        for k in range(levels):
            for side, price in ((BUY, (base - k) * sim.tick), (SELL, (base + 1 + k) * sim.tick)):
                if price <= 0:
                    continue
                for _ in range(1 + int(rng.random() * 3)):
                    o = sim.engine.submit(side, LIMIT, self._depth_qty(sim, k), price, 0, DAY, self._broker(),
                                          now)
                    if o.live:
                        sim.resting.append(o)
