"""Agent order flow for the simulated market: one point process over many instruments.

Each instrument has a fair value (log price) driven by a common factor (Ibovespa-like, with
per-instrument loadings; WDO loads negatively) plus its own noise. Agent actions arrive as a
Poisson process whose rate follows an intraday U-shape (with a second bump at the 10:00 cash open)
and random bursts; each action picks an active instrument by weight and then one agent:

- market maker: keeps ``mm_levels`` quotes a side around the fair value, re-quoting what moved;
- noise limit: a passive limit a geometric number of ticks behind the fair value;
- noise market: a marketable IOC limit (market with protection), leaning towards the fair value;
- momentum: a larger marketable IOC in the direction of the last minute's move;
- cancel: pulls a random resting noise order (far ones always).

In call auctions agents post limits scattered around the fair value, so the uncross price lands
near it. All randomness comes from one ``random.Random(seed)``.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence

from tradingsystem.backtest.matching import BUY, DAY, IOC, LIMIT, SELL, MatchingEngine, RestingOrder
from tradingsystem.domain.instruments import AssetClass, Instrument
from tradingsystem.domain.sessions import Phase

from .config import DEFAULT_BETAS, SimMarketConfig

NS = 1_000_000_000
_SESSION_SECONDS = 8 * 3600.0
_TZ_OFFSET_S = -3 * 3600
_ACTIVE = (Phase.OPENING_CALL, Phase.CONTINUOUS, Phase.CLOSING_CALL)
BROKERS: tuple[int, ...] = (3, 8, 13, 15, 16, 27, 40, 45, 72, 85, 86, 90, 107, 114, 120, 127, 238, 308, 386,
                            1099, 1982)
"""B3 participant codes agents trade through (XP, UBS, BofA, Santander, Morgan Stanley, BTG, Itaú, ...)."""


class InstrumentSim:
    """Per-instrument generator state."""

    __slots__ = (
        "active", "beta", "engine", "inst", "last_f", "last_t", "lot", "mean_lots", "mm_asks", "mm_bids",
        "mom_ref", "mom_ts", "phase", "resting", "sigma", "symbol", "tick", "weight", "x",
    )

    def __init__(self, inst: Instrument, engine: MatchingEngine, start_raw: int, weight: float, beta: float,
                 sigma: float, t0: int) -> None:
        self.inst = inst
        self.symbol = inst.symbol
        self.engine = engine
        self.tick = inst.tick
        self.lot = inst.lot
        self.weight = weight
        self.beta = beta
        self.sigma = sigma
        self.x = math.log(start_raw / inst.tick)  # log of the fair value in ticks
        self.last_t = t0
        self.last_f = 0.0
        self.phase = Phase.CLOSED
        self.active = False
        self.mm_bids: dict[int, RestingOrder] = {}
        self.mm_asks: dict[int, RestingOrder] = {}
        self.resting: list[RestingOrder] = []
        self.mom_ref = 0
        self.mom_ts = t0
        self.mean_lots = 3.0 if inst.asset_class is AssetClass.STOCK else (4.0 if inst.root == "WIN" else 2.0)

    def fair_ticks(self) -> float:
        return math.exp(self.x)


class MarketGenerator:
    """Draws the next agent action time and performs it on the matching engines."""

    def __init__(self, config: SimMarketConfig, engines: Sequence[MatchingEngine], start_ns: int) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.sims: dict[str, InstrumentSim] = {}
        secs_vol = 1.0 / math.sqrt(_SESSION_SECONDS)
        for eng in engines:
            inst = eng.instrument
            start = inst.round_to_tick(int(config.start_price(inst.symbol, inst.root).scaleb(inst.scale)))
            beta = DEFAULT_BETAS.get(inst.root if inst.is_future else inst.symbol, 0.8)
            self.sims[inst.symbol] = InstrumentSim(
                inst, eng, max(start, inst.tick), config.weight(inst.symbol, inst.root), beta,
                config.idio_vol_daily * secs_vol, start_ns,
            )
        self.total_weight = sum(s.weight for s in self.sims.values()) or 1.0
        self.factor_sigma = config.factor_vol_daily * secs_vol
        self.factor = 0.0
        self.factor_t = start_ns
        mix = config.agents
        parts = [mix.market_maker, mix.noise_limit, mix.noise_market, mix.momentum, mix.cancel]
        total = sum(parts) or 1.0
        acc, self._mix_cum = 0.0, []
        for p in parts:
            acc += p / total
            self._mix_cum.append(acc)
        self._active: list[InstrumentSim] = []
        self._active_cum: list[float] = []
        self._active_weight = 0.0
        self.next_ts: int | None = None
        self.burst_until = 0
        self.burst_mult = 1.0
        self.next_burst = self._draw_burst_gap(start_ns)
        self.events = 0

    # ----------------------------------------------------------------- schedule
    def _draw_burst_gap(self, now: int) -> int:
        rate = self.config.burst_rate_per_hour / 3600.0
        if rate <= 0:
            return 1 << 62
        return now + int(self.rng.expovariate(rate) * NS)

    def _intensity(self, now: int) -> float:
        cfg = self.config
        tod = (now // NS + _TZ_OFFSET_S) % 86400
        tau = cfg.u_tau_minutes * 60.0
        u = 1.0
        if tod >= 32400:  # 09:00 futures open
            u += cfg.open_boost * math.exp(-(tod - 32400) / tau)
        if tod >= 36000:  # 10:00 cash open
            u += 0.75 * cfg.open_boost * math.exp(-(tod - 36000) / tau)
        u += cfg.close_boost * math.exp(-abs(64800 - tod) / tau)  # 18:00
        return cfg.events_per_second * (self._active_weight / self.total_weight) * u * self.burst_mult

    def reschedule(self, now: int) -> None:
        """Draw the next action time from ``now`` (after a phase change or an action)."""
        if not self._active:
            self.next_ts = None
            return
        if now >= self.burst_until and self.burst_mult != 1.0:
            self.burst_mult = 1.0
        if now >= self.next_burst:
            self._start_burst(now)
        dt = self.rng.expovariate(self._intensity(now))
        self.next_ts = now + 1 + int(dt * NS)

    def _start_burst(self, now: int) -> None:
        cfg = self.config
        self.burst_mult = cfg.burst_multiplier
        self.burst_until = now + int(self.rng.expovariate(1.0 / cfg.burst_mean_seconds) * NS)
        self._advance_factor(now)
        self.factor += self.rng.gauss(0.0, self.factor_sigma * math.sqrt(120.0))  # news jump
        self.next_burst = self._draw_burst_gap(self.burst_until)

    def set_phase(self, symbol: str, phase: Phase, now: int) -> None:
        sim = self.sims[symbol]
        sim.phase = phase
        sim.active = phase in _ACTIVE
        if phase == Phase.CLOSED:
            sim.mm_bids.clear()
            sim.mm_asks.clear()
            sim.resting.clear()
        self._active = [s for s in self.sims.values() if s.active]
        acc, cum = 0.0, []
        for s in self._active:
            acc += s.weight
            cum.append(acc)
        self._active_cum, self._active_weight = cum, acc
        self.reschedule(now)

    # ----------------------------------------------------------------- fair values
    def _advance_factor(self, now: int) -> None:
        dt = (now - self.factor_t) / NS
        if dt > 0:
            sig = self.factor_sigma * (1.7 if self.burst_mult > 1.0 else 1.0)
            self.factor += sig * math.sqrt(dt) * self.rng.gauss(0.0, 1.0)
            self.factor_t = now

    def _update_fair(self, sim: InstrumentSim, now: int) -> float:
        self._advance_factor(now)
        dt = (now - sim.last_t) / NS
        if dt > 0:
            sim.x += sim.beta * (self.factor - sim.last_f) + sim.sigma * math.sqrt(dt) * self.rng.gauss(0.0, 1.0)
            sim.last_t = now
        sim.last_f = self.factor
        return math.exp(sim.x)

    # ----------------------------------------------------------------- actions
    def step(self, now: int) -> None:
        """Perform the action due at ``now`` and draw the next one."""
        self.events += 1
        rng = self.rng
        active = self._active
        if active:
            i = bisect_right(self._active_cum, rng.random() * self._active_weight)
            sim = active[min(i, len(active) - 1)]
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
        self.reschedule(now)

    def _qty(self, sim: InstrumentSim, scale: float = 1.0) -> int:
        return sim.lot * (1 + int(self.rng.expovariate(1.0 / (sim.mean_lots * scale))))

    def _broker(self) -> int:
        return BROKERS[int(self.rng.random() * len(BROKERS))]

    def _market_maker(self, sim: InstrumentSim, fv: float, now: int) -> None:
        eng, tick, levels = sim.engine, sim.tick, self.config.mm_levels
        bid0 = math.floor(fv)
        ask0 = bid0 + 1
        for book, first, step, side in ((sim.mm_bids, bid0, -1, BUY), (sim.mm_asks, ask0, 1, SELL)):
            want = {(first + step * k) * tick: k for k in range(levels)}
            for price, order in list(book.items()):
                if price not in want or not order.live:
                    if order.live:
                        eng.cancel(order, now)
                    del book[price]
            for price, k in want.items():
                if price not in book and price > 0:
                    o = eng.submit(side, LIMIT, self._qty(sim, 1.0 + k), price, 0, DAY, self._broker(), now)
                    if o.live:
                        book[price] = o

    def _noise_limit(self, sim: InstrumentSim, fv: float, now: int) -> None:
        rng = self.rng
        k = int(rng.expovariate(0.3))
        base = math.floor(fv)
        if rng.random() < 0.5:
            side, price = BUY, (base - k) * sim.tick
        else:
            side, price = SELL, (base + 1 + k) * sim.tick
        if price <= 0:
            return
        o = sim.engine.submit(side, LIMIT, self._qty(sim), price, 0, DAY, self._broker(), now)
        if o.live:
            sim.resting.append(o)
            if len(sim.resting) > self.config.max_resting_per_instrument:
                self._cancel(sim, fv, now)

    def _take(self, sim: InstrumentSim, side: int, qty: int, now: int) -> None:
        eng = sim.engine
        if side == BUY:
            best = eng.best_ask
            price = best + 2 * sim.tick if best else 0
        else:
            best = eng.best_bid
            price = best - 2 * sim.tick if best else 0
        if price > 0:
            eng.submit(side, LIMIT, qty, price, 0, IOC, self._broker(), now)

    def _noise_market(self, sim: InstrumentSim, fv: float, now: int) -> None:
        eng = sim.engine
        bb, ba = eng.best_bid, eng.best_ask
        p_buy = 0.5
        if bb and ba:
            mid = (bb + ba) / (2.0 * sim.tick)
            p_buy = min(0.85, max(0.15, 0.5 + 0.35 * (fv - mid)))
        side = BUY if self.rng.random() < p_buy else SELL
        self._take(sim, side, self._qty(sim), now)

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
                    o = sim.engine.submit(side, LIMIT, self._qty(sim), price, 0, DAY, self._broker(), now)
                    if o.live:
                        sim.resting.append(o)
