# Two entry points: `make demo` (the main job on the bundled data) and `make test`.
# Both create .venv on first use; nothing needs to be installed by hand.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_OUT ?= demo-output

.PHONY: demo test check quick lint typecheck unit browser postgresql java clean help

help:
	@echo "make demo   run custseg on the bundled sample (writes $(DEMO_OUT)/)"
	@echo "make test   lint, type-check and run the whole test suite"
	@echo "make check  lint, type-check and the tests that need no subprocess, server, Spark, PostgreSQL, Chromium or notebook"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/custseg demo --out $(DEMO_OUT)

# Headless Chromium for the report's browser test, from the system's packages.
browser:
	@sh scripts/ensure-chromium.sh

# Java 17 for the Spark engine's tests (pyspark runs on it), from the system's packages.
java:
	@sh scripts/ensure-java.sh

# PostgreSQL server binaries from the system's packages; the tests run their own server.
postgresql:
	@sh scripts/ensure-postgresql.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Two workers (the CI machine's cores); a test file stays on one worker, so its module
# fixtures (a PostgreSQL server, a Spark cluster) start once.
PYTEST_WORKERS ?= 2

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck browser java postgresql unit

# The quick tier for a developer's loop: the tests marked heavy (tests/conftest.py) are left out.
quick: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not heavy" -n $(PYTEST_WORKERS) --dist loadfile

check: lint typecheck quick

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
