"""The simulated B3 market: matching engines, agent order flow, a feed and an execution client."""

from tradingsystem.adapters.simulator.config import AgentMix, SimMarketConfig
from tradingsystem.adapters.simulator.generator import MarketGenerator
from tradingsystem.adapters.simulator.market import (
    SimExecution,
    SimFeed,
    SimulatedMarket,
    default_instruments,
    generate_trades,
)

__all__ = [
    "AgentMix", "MarketGenerator", "SimExecution", "SimFeed", "SimMarketConfig", "SimulatedMarket",
    "default_instruments", "generate_trades",
]
