# Sealbook — build and test plumbing. `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# apt-get as root, or through sudo otherwise; never prompts.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo -n)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: help install run lint test bench clean

help:
	@echo "make install  create .venv and install sealbook with the dev extras (idempotent)"
	@echo "make run      start the demo exchange at http://127.0.0.1:8000"
	@echo "make lint     ruff + mypy --strict + import-linter contracts"
	@echo "make test     lint, then the whole pytest suite with a throwaway PostgreSQL 15"
	@echo "              (extra pytest arguments: make test PYTEST_ARGS='-k keys -x')"
	@echo "make bench    run the benchmarks (installs wrk if missing)"
	@echo "make clean    remove .venv, var and caches"

install: $(STAMP)

# Re-installs only when pyproject.toml is newer than the stamp (or the venv is gone).
$(STAMP): pyproject.toml
	@if ! $(PY) -m pip --version >/dev/null 2>&1; then \
		echo "creating $(VENV)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

run: install
	$(VENV)/bin/sealbook serve --demo --host 127.0.0.1 --port 8000

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# pytest's status is kept; 5 (no tests collected) is a failure like any other non-zero.
test: install lint
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing chromium for the console's browser tests (apt-get)"; \
		$(APT_GET) update -q </dev/null; \
		$(APT_GET) install -y -q --no-install-recommends chromium </dev/null; \
	fi
	@rc=0; bash scripts/pgtest.sh $(VENV)/bin/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit "$$rc"

bench: install
	@if ! command -v wrk >/dev/null 2>&1; then \
		echo "installing wrk (apt-get)"; \
		$(APT_GET) update -q </dev/null; \
		$(APT_GET) install -y -q --no-install-recommends wrk </dev/null; \
	fi
	$(PY) bench/auth.py
	$(PY) bench/engine.py
	$(PY) bench/orders.py
	$(PY) bench/tax.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist src/*.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
