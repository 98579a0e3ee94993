# Two commands on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run serve install install-test test test-sqlite test-postgres lint bench clean

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
test: install-test lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install-test
	@echo "== test suite on SQLite =="
	TEST_DATABASE_URL=sqlite $(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest ran no test: failing"; exit 1; fi; exit $$rc

test-postgres: install-test
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL =="; \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest ran no test: failing"; exit 1; fi; exit $$rc; \
	elif [ "$$REQUIRE_POSTGRES" = "1" ]; then \
	  echo "PostgreSQL does not answer at $(PG_TEST_URL) and REQUIRE_POSTGRES=1: failing"; exit 1; \
	else \
	  echo "PostgreSQL does not answer at $(PG_TEST_URL): suite run on SQLite only"; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
