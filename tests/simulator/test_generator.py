"""Market generator: common-factor correlation, intraday U-shape, bursts, config."""

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
    for k in range(1, 181):  # 3 hours sampled every minute
        m.run_until(local_ns(DAY, time(10, 30)) + k * 60 * NS)
        for s, sim in gen.sims.items():
            path[s].append(sim.x)
    rets = {s: [b - a for a, b in itertools.pairwise(p)] for s, p in path.items()}
    assert _corr(rets["WINJ26"], rets["PETR4"]) > 0.3
    assert _corr(rets["WINJ26"], rets["VALE3"]) > 0.3
    assert _corr(rets["WINJ26"], rets["WDOJ26"]) < -0.2


def test_intensity_has_a_u_shape_and_bursts_multiply_it():
    cfg = SimMarketConfig(burst_rate_per_hour=0)
    m = SimulatedMarket(cfg, default_instruments(cfg, CAL.is_session), CAL)
    gen = m.generator
    for s in gen.sims:
        gen.set_phase(s, gen.sims[s].phase.CONTINUOUS, m.start_ns)
    at = {h: gen._intensity(local_ns(DAY, time(*h))) for h in ((9, 5), (10, 5), (13, 0), (17, 50))}
    assert at[(9, 5)] > 2 * at[(13, 0)] and at[(10, 5)] > 2 * at[(13, 0)] and at[(17, 50)] > 1.5 * at[(13, 0)]
    gen.burst_mult = cfg.burst_multiplier
    assert gen._intensity(local_ns(DAY, time(13, 0))) == pytest.approx(cfg.burst_multiplier * at[(13, 0)])


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
