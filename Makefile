# Two commands on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run serve install install-test test test-sqlite test-postgres lint bench clean \
	browser-deps chromium test-browser

# Browser tests (tests/browser): Debian's Chromium, driven by Playwright for Python, and axe-core
# from npm in a test-only folder. Never `playwright install`: it downloads a browser build.
CHROMIUM := /usr/bin/chromium
BROWSER_DIR := tests/browser
AXE_JS := $(BROWSER_DIR)/node_modules/axe-core/axe.min.js
SCREENSHOTS := test-artifacts/screenshots
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install, migrate, load the référentiel and the demo data, serve on 127.0.0.1:8000
run: install
	$(BIN)/vae-portal db upgrade
	$(BIN)/vae-portal referentiel load
	$(BIN)/vae-portal demo
	$(BIN)/vae-portal serve

serve: install
	$(BIN)/vae-portal serve

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

## make test: install, lint, then the whole suite on SQLite and on PostgreSQL when it answers
## (REQUIRE_POSTGRES=1 turns an unreachable PostgreSQL into a failure, as in CI).
## The browser journeys' screenshots are named at the end, whether the suite passed or not.
test: install-test lint browser-deps
	@rm -rf $(SCREENSHOTS)
	@rc=0; \
	  $(MAKE) --no-print-directory test-sqlite || rc=$$?; \
	  if [ $$rc -eq 0 ]; then $(MAKE) --no-print-directory test-postgres || rc=$$?; fi; \
	  echo "Screenshots: $(CURDIR)/$(SCREENSHOTS)"; \
	  exit $$rc

## Chromium from Debian when it is missing, and axe-core pinned by tests/browser/package-lock.json.
browser-deps: chromium $(AXE_JS)

chromium:
	@[ -x $(CHROMIUM) ] || { echo "== installing Debian's chromium for the browser tests =="; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }
	@[ -x $(CHROMIUM) ] || { echo "$(CHROMIUM) is still missing after apt-get install chromium"; exit 1; }

$(AXE_JS): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## make test-browser: the browser journeys alone, on SQLite (PYTEST_ARGS passes options on).
test-browser: install-test browser-deps
	TEST_DATABASE_URL=sqlite $(BIN)/python -m pytest -q -m browser tests/browser $(PYTEST_ARGS); \
	  rc=$$?; echo "Screenshots: $(CURDIR)/$(SCREENSHOTS)"; exit $$rc

test-sqlite: install-test browser-deps
	@echo "== test suite on SQLite =="
	TEST_DATABASE_URL=sqlite $(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest ran no test: failing"; exit 1; fi; exit $$rc

test-postgres: install-test browser-deps
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL =="; \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest ran no test: failing"; exit 1; fi; exit $$rc; \
	elif [ "$$REQUIRE_POSTGRES" = "1" ]; then \
	  echo "PostgreSQL does not answer at $(PG_TEST_URL) and REQUIRE_POSTGRES=1: failing"; exit 1; \
	else \
	  echo "PostgreSQL does not answer at $(PG_TEST_URL): suite run on SQLite only"; \
	fi

## make bench: the performance benchmark (issue 9; never part of `make test`). SCALE=0.1 by default
## (a quick run: about 10 s of data generation, ~5 min in all); SCALE=1 is the national scale
## (6,000 parcours, ~390,000 attestation versions: about 2 min of generation on SQLite).
## SQLite with 1 worker, then PostgreSQL with 1 and 2 workers when it answers.
## BENCH_ARGS passes options on (e.g. BENCH_ARGS="--duration 10 --reuse"); see bench/load.py.
SCALE ?= 0.1
PG_BENCH_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/vae_bench
bench: install-test
	$(BIN)/python -m bench.load --scale $(SCALE) $(BENCH_ARGS)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=3).close()" 2>/dev/null; then \
	  $(BIN)/python -m bench.load --scale $(SCALE) --database-url $(PG_BENCH_URL) --workers 1,2 \
	    --pdf-runs 0 $(BENCH_ARGS); \
	else \
	  echo "PostgreSQL does not answer at $(PG_TEST_URL): benchmark run on SQLite only"; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts $(BROWSER_DIR)/node_modules
