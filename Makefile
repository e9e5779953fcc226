# The README's verbs. Each target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)
	@echo "leadflow is installed: $(BIN)/leadflow"

demo: install
	$(BIN)/leadflow demo  # ends serving the web pages on the demo data: Ctrl-C stops it

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Storage tests run on SQLite and on a real PostgreSQL, and the browser tests in Debian's
# Chromium: this target provides both. Two worker processes (pytest-xdist), each with its
# own PostgreSQL schema and temporary files; TEST_WORKERS=0 runs the suite in one.
TEST_WORKERS ?= 2
test: lint
	./scripts/ensure-chromium.sh
	LEADFLOW_TEST_POSTGRES_URL="$${LEADFLOW_TEST_POSTGRES_URL:-$$(./scripts/ensure-postgres.sh)}" \
		$(BIN)/pytest -n $(TEST_WORKERS)

# The README's and docs/web.md's pictures, taken by the browser tests on the demo data.
screenshots: install
	./scripts/ensure-chromium.sh
	LEADFLOW_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/e2e/test_browser.py

bench: install
	$(BIN)/python benchmarks/bench_rate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache leadflow-demo
