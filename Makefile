# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= demo.db

.PHONY: install demo test test-all lint typecheck pytest apidocs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/factledger --db sqlite:///$(DEMO_DB) demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# One worker per core (pytest-xdist): every test has its own database (a SQLite file, or a
# PostgreSQL schema of its own), so they run side by side; `-n 0` runs them in one process.
pytest: $(STAMP) browser-deps
	$(PY) -m pytest -n auto

# The browser test (tests/browser) drives the distribution's Chromium: installed here where
# apt-get can (as root); if it cannot be, that test says so (and fails in CI).
.PHONY: browser-deps
browser-deps:
	@command -v chromium >/dev/null || ! command -v apt-get >/dev/null || [ "$$(id -u)" != 0 ] \
		|| { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
		|| echo "could not install chromium: the browser test will say so"

test: lint typecheck pytest

# The tests marked slow (the crash suite, ...) are deselected locally; CI (CI=true) and this
# target run them: see tests/conftest.py.
test-all:
	LEDGER_TEST_SLOW=1 $(MAKE) test

# The Python API reference, from the docstrings, into docs/api/_build/html (git-ignored). The same
# build, every warning an error, is a test (tests/test_apidocs.py), so `make test` checks it.
apidocs: $(STAMP)
	$(PY) -m sphinx -b html -W --keep-going -n -q docs/api docs/api/_build/html

# Benchmarks (issue 6): installs the peer (eventsourcing 9.x with its PostgreSQL extra) into the
# venv, then runs every workload. BENCH_SIZE=tiny|small|100k|1m (default small), BENCH_RUNS=3,
# BENCH_BACKENDS=sqlite,postgresql; results in .bench/. See BENCHMARKS.md.
BENCH_SIZE ?= small
bench: $(STAMP)
	$(PY) -m pip install --quiet "eventsourcing[postgres]>=9,<10"
	BENCH_SIZE=$(BENCH_SIZE) $(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(DEMO_DB)*
