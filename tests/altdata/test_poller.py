"""The node's poller: publishes releases and news on the bus, alerts, backs off and survives the server going away."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.alerts.servers import wait_until
from tests.altdata.server import AltDataServer
from tradingsystem.adapters.altdata import TOPIC, AltDataConfig, FeedConfig
from tradingsystem.domain.altdata import IndicatorRelease, NewsItem
from tradingsystem.runtime.cli import app
from tradingsystem.runtime.config import parse_config
from tradingsystem.runtime.node import attach_altdata, build_sim_node


def alt_config(server: AltDataServer, **kw: object) -> AltDataConfig:
    return AltDataConfig(poll=True, sgs_url=server.url, series=["ipca", "ptax"], attempts=1, timeout_s=2,
                         poll_interval_s=0.05, max_backoff_s=0.2,
                         feeds=[FeedConfig(name="mercado", url=f"{server.url}/feeds/mercado.xml")], **kw)  # type: ignore[arg-type]


def test_node_poller_publishes_and_survives_the_server_going_away(server: AltDataServer, tmp_path: Path) -> None:
    cfg = parse_config({"data_dir": str(tmp_path), "persist": False, "record": False,
                        "altdata": alt_config(server).model_dump(mode="json")})
    node = build_sim_node(cfg, seed=1)
    seen: list[object] = []
    node.kernel.bus.subscribe(TOPIC, seen.append)
    poller = attach_altdata(node, cfg, tmp_path)
    assert poller is not None and poller in node.sinks
    try:
        ts = node.kernel.clock.now()
        assert wait_until(lambda: poller.stats["wait_s"] == 0.05 and poller._queue.qsize() > 0)
        poller.drain(ts)
        releases = [e for e in seen if isinstance(e, IndicatorRelease)]
        news = [e for e in seen if isinstance(e, NewsItem)]
        # first pass: a back-fill publishes each series' latest value only; the feed's 3 items
        assert sorted((e.series, e.ref) for e in releases) == [("ipca", "2024-11-01"), ("ptax", "2025-01-08")]
        assert len(news) == 3 and any(n.instruments == ("VALE3",) and n.score < 0 for n in news)
        # the server goes away: passes fail, the wait backs off to the cap, one alert
        server.stop()
        assert wait_until(lambda: poller.stats["wait_s"] == 0.2)
        poller.drain(ts + 1)
        kinds = [a.kind for a in node.kernel.alerts]
        assert kinds.count("altdata_unreachable") == 1
        # it comes back with a new IPCA value: published, with an alert, and the wait is the interval again
        server.series[433].append({"data": "01/12/2024", "valor": "0.52"})
        server.start()
        assert wait_until(lambda: poller.stats["wait_s"] == 0.05)
        poller.drain(ts + 2)
        new = [e for e in seen if isinstance(e, IndicatorRelease) and e.ref == "2024-12-01"]
        assert len(new) == 1 and new[0].previous == "0.39"
        msgs = [a.message for a in node.kernel.alerts]
        assert "ipca 2024-12-01 released: 0.52 (was 0.39)" in msgs
        assert "alternative data sources back" in msgs
    finally:
        poller.close()


def test_run_with_the_poller_on(server: AltDataServer, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "persist": False, "record": False,
                               "altdata": alt_config(server).model_dump(mode="json")}), encoding="utf-8")
    out = tmp_path / "summary.json"
    res = CliRunner().invoke(app, ["run", "--config", str(cfg), "--duration", "60", "--speed", "max", "--no-status",
                                   "--no-control", "--no-dashboard", "--summary-out", str(out)])
    assert res.exit_code == 0, res.output
    stats = json.loads(out.read_text())["altdata"]
    assert stats["polls"] >= 1 and stats["releases"] >= 2 and stats["items"] == 3
