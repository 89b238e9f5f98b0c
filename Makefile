# The two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Processes `make test` spreads the suite over (pytest-xdist): on 2 cores the whole suite with
# PostgreSQL took 6.6 min in 2 and 15 min in 1 on a slow host. TEST_WORKERS=0 runs it in one.
# loadfile: each test file runs whole, in order, in one process (the browser scenario's steps
# build on each other; loadgroup's xdist_group marks did not keep it together here).
TEST_WORKERS ?= 2

.PHONY: run test lint format bench fuzz soak screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/syndication db upgrade
	$(BIN)/syndication demo
	$(BIN)/syndication serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/ruff check syndication tests bench migrations
	$(BIN)/ruff format --check syndication tests bench migrations
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check syndication tests bench migrations
	$(BIN)/ruff format --check syndication tests bench migrations
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix syndication tests bench migrations
	$(BIN)/ruff format syndication tests bench migrations

# Schemathesis with many more cases per operation than `make test` runs.
fuzz: $(STAMP)
	SYNDICATION_FUZZ_EXAMPLES=500 $(BIN)/python -m pytest tests/integration/test_fuzz.py -s

# Refresh the README's screenshots from the browser tests.
screenshots: $(STAMP)
	SYNDICATION_SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/e2e

# Long variants: the load test for a minute per database, the isolation property at length.
soak: $(STAMP)
	SYNDICATION_LOAD_SECONDS=60 $(BIN)/python -m pytest tests/live -s
	SYNDICATION_ISOLATION_EXAMPLES=300 $(BIN)/python -m pytest tests/integration/test_isolation.py

# Every benchmark of docs/performance.md in one run (about 6-10 minutes; PostgreSQL at
# SYNDICATION_BENCH_POSTGRES_URL, default the local server, is skipped if unreachable).
bench: $(STAMP)
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi; }
	$(BIN)/python bench/run.py --out docs/performance.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
