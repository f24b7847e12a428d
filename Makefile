# Two commands: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install messages setup system-packages lint format validation-report bench-engine bench-prescreen bench-load clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

install: $(VENV)/.installed

messages: install
	$(MANAGE) compile_translations

system-packages:
	bash .ci/system-packages

setup: messages system-packages
	$(MANAGE) migrate --noinput
	$(MANAGE) load_trial
	$(MANAGE) demo_data --screenings 12 --if-empty

# The jobs' worker (README, "Background jobs") runs beside the server and stops
# with it; jobs a killed worker left running are queued again first.
run: setup
	$(MANAGE) jobs_recover --all
	$(MANAGE) db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: messages lint
	bash .ci/system-packages --browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The non-browser suite; writes validation-report.md (criterion -> tests -> results).
validation-report: messages
	$(VENV)/bin/pytest -p no:cacheprovider -m "not browser" --validation-report=validation-report.md $(PYTEST_ARGS)

bench-engine: install
	$(PY) bench/engine.py

bench-prescreen: setup
	$(PY) bench/prescreen.py

bench-load: install
	bash bench/load.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
