"""Example configs load; mistakes name the key and the line; the environment overrides the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradingsystem.runtime.config import ConfigError, load_config

CONFIG = Path(__file__).resolve().parents[2] / "config"
EXAMPLES = ["sim.yaml", "profitdll.yaml", "replay.yaml", "split-gateway.yaml", "split-engine.yaml", "soak.yaml"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_loads(name: str) -> None:
    cfg = load_config(CONFIG / name, environ={})
    assert len(cfg.sim.symbols) >= 10  # 10+ assets in every example


def test_split_examples_agree_on_the_market() -> None:
    gw, eng = load_config(CONFIG / "split-gateway.yaml", {}), load_config(CONFIG / "split-engine.yaml", {})
    assert gw.sim.symbols == eng.sim.symbols and gw.sim.session_date == eng.sim.session_date
    assert gw.redis.prefix == eng.redis.prefix


def test_a_misspelt_key_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("data_dir: data\nrisk:\n  max_order_qty: 5\n  max_postion: 10\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert f"{path}:4: risk.max_postion: unknown key" in str(err.value)


def test_a_wrong_type_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("redis:\n  url: redis://x\n  batch: lots\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert f"{path}:3: redis.batch:" in str(err.value) and "integer" in str(err.value)


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {"TRADINGSYSTEM__REDIS__URL": "redis://:secret@redis:6379/0", "TRADINGSYSTEM__RISK__MAX_POSITION": "7",
           "OTHER": "x"}
    cfg = load_config(CONFIG / "split-engine.yaml", env)
    assert cfg.redis.url == "redis://:secret@redis:6379/0"
    assert cfg.risk.max_position == 7 and cfg.risk.max_order_qty == 50  # the rest of the section stays


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(CONFIG / "sim.yaml", {"TRADINGSYSTEM__RISK__MAX_POSITION": "many"})
    assert "env TRADINGSYSTEM__RISK__MAX_POSITION: risk.max_position" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config(None, {"TRADINGSYSTEM__REDIS__PASWORD": "x"})
    assert "env TRADINGSYSTEM__REDIS__PASWORD: redis.pasword: unknown key" in str(err.value)


def test_run_refuses_a_bad_config_naming_key_and_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tradingsystem.runtime.cli import app

    path = tmp_path / "bad.yaml"
    path.write_text("sim:\n  seed: 1\n  symbls: [WINFUT]\n")
    res = CliRunner().invoke(app, ["run", "--config", str(path), "--no-status", "--no-control", "--no-dashboard"])
    assert res.exit_code == 2
    assert "bad.yaml:3: sim.symbls: unknown key" in res.output.replace("\n", "")
