# Assetmap: `make run` starts the app on the demo data; `make test` runs every check.
# Both set everything up first (virtual environment, Python and front-end packages), so a fresh
# clone needs only Python 3.11+, Node/npm and the package registries.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
VENDOR_STAMP := web/static/vendor/.stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test lint typecheck test-only bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(VENDOR_STAMP): web/package.json web/package-lock.json scripts/vendor_assets.py $(wildcard web/static/scss/*.scss)
	cd web && npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) scripts/vendor_assets.py
	touch $(VENDOR_STAMP)

setup: $(STAMP) $(VENDOR_STAMP)

run: setup
	$(BIN)/assetmap init
	$(BIN)/assetmap demo
	$(BIN)/assetmap serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

# Two workers: the suite is I/O- and browser-bound; CI machines have 2 cores.
TEST_WORKERS ?= 2
test-only:
	$(BIN)/pytest -n $(TEST_WORKERS)

test: setup
	bash scripts/system_deps.sh
	$(MAKE) lint typecheck test-only

# Benchmarks print their tables (not part of `make test`): one line each, with its own
# arguments, e.g. `make bench NEARBY_BENCH_ARGS=--quick`.
NEARBY_BENCH_ARGS ?=
bench: setup
	$(BIN)/python tests/benchmarks/bench_nearby.py $(NEARBY_BENCH_ARGS)

clean:
	rm -rf $(VENV) web/node_modules web/static/vendor instance
