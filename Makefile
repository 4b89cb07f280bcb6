# Two commands from a clean clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit bench bench-quick bench-harness bench-harness-quick nginx quality clean slow browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install -q -e . --group dev
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/amendwatch demo --output demo-output

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# headless Chromium for tests/browser (skipped there when absent): installed only as root with apt
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver) \
			|| echo "chromium could not be installed: the browser tests will be skipped"; \
	fi

# two workers (pytest-xdist): the suite's wall time on 2 cores; PYTEST_ARGS="-n 0" for one
unit: $(STAMP) browser
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test: lint types unit

# performance harness (loopback only; urlwatch goes into its own venv, bench/.venv): see docs/benchmarks.md
BENCH_VENV := bench/.venv
$(BENCH_VENV)/bin/urlwatch:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q urlwatch || echo "urlwatch could not be installed: the bench runs without it"

# Debian's nginx-light for the CLI bench (installed only as root with apt, like `make browser`)
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null; then \
		(apt-get update -qq && apt-get install -y -qq nginx-light) \
			|| echo "nginx could not be installed: the CLI bench cannot run"; \
	fi

# what users run: the installed CLI, default settings, on nginx, urlwatch beside it (issue 18)
# (bytecode compiled first, as a wheel install has it: an editable install under
# PYTHONDONTWRITEBYTECODE would compile every module from source on every run)
bench: $(STAMP) $(BENCH_VENV)/bin/urlwatch nginx
	$(BIN)/python -m compileall -q amendwatch scraper store reports differ
	$(BIN)/python bench/cli_bench.py $(BENCH_ARGS)

bench-quick: $(STAMP) $(BENCH_VENV)/bin/urlwatch nginx
	$(BIN)/python -m compileall -q amendwatch scraper store reports differ
	$(BIN)/python bench/cli_bench.py --chapters 200 --doc /dev/null $(BENCH_ARGS)

# the in-process harness on the project's own server: memory at 10,000 chapters, database size
bench-harness: $(STAMP) $(BENCH_VENV)/bin/urlwatch
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-harness-quick: $(STAMP) $(BENCH_VENV)/bin/urlwatch
	$(BIN)/python bench/run.py --chapters 300 --rss-chapters 600 --db-chapters 500 --db-weeks 8 --doc /dev/null $(BENCH_ARGS)

# quality on real documents (../shared/devcorpus or --corpus DIR; loopback only): see docs/quality.md
# QUALITY_ARGS="--docs 5" for a quick look (then docs/quality.md is left alone)
quality: $(STAMP)
	$(BIN)/python bench/quality.py $(QUALITY_ARGS)

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache

slow: $(STAMP)
	$(BIN)/pytest -m slow

# 60 SIGKILL trials of a real snapshot process (docs/reliability.md); CRASH_TRIALS=N for more
.PHONY: crash-trials
crash-trials: $(STAMP)
	$(BIN)/pytest -m slow -s -p no:cacheprovider tests/reliability/test_reliability_crash.py
