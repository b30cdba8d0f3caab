# TradingSystem: `make run` trades the simulated B3 market; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := gcc postgresql util-linux chromium redis-server rclone espeak-ng
ARGS ?=

.PHONY: run test bench bench-peers lint typecheck layers unit system-deps clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

run: $(STAMP)
	$(VENV)/bin/tradingsystem run $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy src

layers: $(STAMP)
	$(VENV)/bin/lint-imports

unit: $(STAMP) system-deps
	$(VENV)/bin/pytest -rs --cov --cov-report=term $(ARGS)

test: $(STAMP) system-deps lint typecheck layers unit

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

# The same backtest workload on peers, each in its own throwaway venv under .peers/ (not part of make test).
bench-peers: $(STAMP)
	@test -x .peers/vectorbt/bin/python || ($(PYTHON) -m venv .peers/vectorbt && .peers/vectorbt/bin/pip install -q vectorbt)
	@test -x .peers/nautilus/bin/python || ($(PYTHON) -m venv .peers/nautilus && .peers/nautilus/bin/pip install -q nautilus_trader)
	VECTORBT_PYTHON=.peers/vectorbt/bin/python NAUTILUS_PYTHON=.peers/nautilus/bin/python $(PY) benchmarks/bench_backtest.py

clean:
	rm -rf $(VENV) .peers .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage build
