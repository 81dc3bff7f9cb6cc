# Two entry points on a fresh machine: `make run` and `make test`. Everything else is set-up they call.
# Python 3.11 + uv; every dependency pinned in requirements.txt (production, the image) and requirements-dev.txt
# (+ local servers, tests, lint).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(PYTHON) -m uv
STAMP := $(VENV)/.installed
ONCE ?=

.PHONY: run test lint lint-sql lint-py install lock clean benchmark

## run: set up, start the local stack (BigQuery emulator, Kafka, Airflow on :8080); Ctrl-C stops it all
run: install
	$(BIN)/python -m game_analytics.localstack.launcher up $(if $(ONCE),--once,)

## test: set up, then lint and the whole test suite (what CI runs)
test: install lint
	$(BIN)/pytest

lint: lint-py lint-sql

lint-py: install
	$(BIN)/ruff check dags include plugins tests benchmarks

lint-sql: install
	$(BIN)/sqlfluff lint sql --processes 2

install: $(STAMP)

# The venv is rebuilt only when a lock file changes; `uv pip sync` makes it match the lock exactly.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user "uv==0.13.9"
	test -x $(BIN)/python || $(UV) venv --python $(PYTHON) $(VENV)
	$(UV) pip sync --python $(BIN)/python requirements-dev.txt
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	touch $@

## lock: re-resolve every pin (see README, "Refreshing the pins")
# First the production lock (what the image installs), then the dev lock (+ local servers, test and lint tools),
# which dev.in constrains to the production pins: this order keeps the two agreeing.
lock:
	$(UV) pip compile --python-version 3.11 --upgrade requirements/runtime.in -o requirements.txt
	$(UV) pip compile --python-version 3.11 --upgrade requirements/dev.in -o requirements-dev.txt

benchmark: install
	$(BIN)/python benchmarks/daily_sql.py

clean:
	rm -rf .state
