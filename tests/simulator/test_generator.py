"""Market generator: common factor, intraday U-shape per the day's hours, bursts, closed nights, config."""

from __future__ import annotations

import itertools
import math
from datetime import date, time

import pytest
from pydantic import ValidationError

from tests.simulator.sim_helpers import WeekdayCalendar
from tradingsystem.adapters.simulator import AgentMix, SimMarketConfig, SimulatedMarket, default_instruments
from tradingsystem.domain.sessions import local_ns

NS = 1_000_000_000
CAL = WeekdayCalendar()
DAY = date(2026, 3, 2)


def _corr(a: list[float], b: list[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb)


def test_fair_values_share_a_common_factor():
    cfg = SimMarketConfig(symbols=("WINFUT", "WDOFUT", "PETR4", "VALE3"), start_time=time(10, 30),
                          events_per_second=2)
    m = SimulatedMarket(cfg, default_instruments(cfg, CAL.is_session), CAL)
    gen = m.generator
    path: dict[str, list[float]] = {s: [] for s in gen.sims}
    for k in range(1, 73):  # 6 hours sampled every 5 minutes (stocks absorb the factor with a lag)
        m.run_until(local_ns(DAY, time(10, 30)) + k * 300 * NS)
        for s, sim in gen.sims.items():
            path[s].append(sim.x)
    rets = {s: [b - a for a, b in itertools.pairwise(p)] for s, p in path.items()}
    for sym in ("PETR4", "VALE3", "WDOJ26"):  # one factor: corr = sign * sqrt(factor share * factor share)
        want = math.sqrt((1 - gen.sims["WINJ26"].p.idio_share) * (1 - gen.sims[sym].p.idio_share))
        want *= gen.sims[sym].p.beta_sign
        got = _corr(rets["WINJ26"], rets[sym])
        assert abs(got - want) < 0.3 and got * want > 0, (sym, got, want)


@pytest.mark.parametrize(("day", "close"), [(DAY, time(17, 50)), (date(2026, 6, 1), time(16, 50))])
def test_intensity_has_a_u_shape_at_the_days_hours_and_bursts_multiply_it(day, close):
    """The closing rise follows the stock closing call: 17:55 in US standard time, 16:55 in US DST."""
    cfg = SimMarketConfig(burst_rate_per_hour=0, session_date=day)
    cfg = cfg.model_copy(update={"vol": cfg.vol.model_copy(update={"slow_sd": 0.0})})  # the shape alone
    m = SimulatedMarket(cfg, default_instruments(cfg, CAL.is_session), CAL)
    m.run_until(m.start_ns)  # the first session starts
    gen = m.generator
    sim = gen.sims["PETR4"]
    at = {h: gen._intensity(sim, local_ns(day, h)) for h in (time(9, 5), time(10, 5), time(13, 0), close)}
    noon = at[time(13, 0)]
    assert at[time(9, 5)] > 2 * noon and at[time(10, 5)] > 2 * noon and at[close] > 1.5 * noon
    other = time(17, 50) if close.hour == 16 else time(16, 50)
    assert gen._intensity(sim, local_ns(day, other)) < 1.2 * noon
    gen.burst_mult = cfg.burst_multiplier
    assert gen._intensity(sim, local_ns(day, time(13, 0))) == pytest.approx(cfg.burst_multiplier * noon)


def test_fair_values_do_not_move_while_the_market_is_closed():
    """Overnight only the drawn gap (at the next session's start) moves fair values; no diffusion."""
    cfg = SimMarketConfig(symbols=("WINFUT", "PETR4"), start_time=time(17, 0), events_per_second=2)
    m = SimulatedMarket(cfg, default_instruments(cfg, CAL.is_session), CAL)
    nxt = date(2026, 3, 3)
    m.run_until(local_ns(DAY, time(18, 31)))
    closed = {s: sim.x for s, sim in m.generator.sims.items()}
    m.run_until(local_ns(nxt, time(7, 59)))
    assert {s: sim.x for s, sim in m.generator.sims.items()} == closed
    m.run_until(local_ns(nxt, time(8, 1)))
    gapped = {s: sim.x for s, sim in m.generator.sims.items()}
    assert gapped != closed
    m.run_until(local_ns(nxt, time(8, 54)))
    assert {s: sim.x for s, sim in m.generator.sims.items()} == gapped


def test_bursts_happen_and_end():
    cfg = SimMarketConfig(symbols=("WINFUT",), start_time=time(11, 0), burst_rate_per_hour=30,
                          events_per_second=5)
    m = SimulatedMarket(cfg, default_instruments(cfg, CAL.is_session), CAL)
    seen = set()
    for k in range(1, 3600):
        m.run_until(m.start_ns + k * NS)
        seen.add(m.generator.burst_mult)
    assert seen == {1.0, cfg.burst_multiplier}


def test_config_is_frozen_and_strict():
    cfg = SimMarketConfig()
    with pytest.raises(ValidationError):
        SimMarketConfig(unknown=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        cfg.seed = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        SimMarketConfig(symbols=())
    with pytest.raises(ValidationError):
        SimMarketConfig(agents=AgentMix(noise_limit=-1))
    assert SimMarketConfig.model_validate({"start_time": "09:45"}).start_time == time(9, 45)


def test_agent_mix_without_market_makers_still_runs():
    cfg = SimMarketConfig(symbols=("PETR4",), start_time=time(11, 0), agents=AgentMix(market_maker=0),
                          record_trades=True)
    m = SimulatedMarket(cfg, default_instruments(cfg, CAL.is_session), CAL)
    m.run_until(m.start_ns + 600 * NS)
    assert m.trades and not m.engines["PETR4"].is_crossed()
