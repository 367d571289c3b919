# SRDI Portal. The two set-up commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MANAGE := $(BIN)/python manage.py

.PHONY: install run test lint format worker beat migrate seed translations messages lock clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# axe-core (package.json) for the browser tests' accessibility checks. Optional: without npm, `make run` still
# works and those checks skip locally (CI installs npm and fails instead).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $@ \
	    || echo "warning: npm ci failed; the accessibility checks will skip locally"; \
	else echo "npm not found: skipping axe-core (the accessibility checks skip locally)"; fi

install: $(VENV)/.installed node_modules/.installed

translations: install
	DEBUG=true $(MANAGE) compiletranslations -v0 > /dev/null

# Embedded default: SQLite, in-process tasks, local-memory cache. DEBUG on for the demo only.
run: install translations
	DEBUG=true $(MANAGE) migrate --no-input
	DEBUG=true $(MANAGE) seed_demo
	@echo "Serving http://127.0.0.1:$(PORT)/gz/  (贵州省; also /xz/ and /xj/)"
	DEBUG=true $(MANAGE) runserver 127.0.0.1:$(PORT)

# Locally: SQLite unless DATABASE_URL is set. CI sets DATABASE_URL and REDIS_URL (see .ci/run).
# On every core (pytest-xdist); the browser tests run on one worker and the fault tests on one (tests/conftest.py).
TEST_WORKERS ?= auto
test: install translations
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(MANAGE) makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks: the screening engine (bench/screening.py: 100,000 synthetic enterprises, evaluation in memory and
# the full batch re-screen) and the officials' review queue (bench/queue.py: 100,000 applications, the queue
# pages' queries in process and their latency under 10 concurrent clients of gunicorn). Dedicated SQLite files
# unless BENCH_DATABASE_URL is set; BENCH_ARGS="--n 5000" for the first, QUEUE_BENCH_ARGS="--n 5000" for the second.
bench: install translations
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/db/bench.sqlite3} $(BIN)/python bench/screening.py $(BENCH_ARGS)
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/db/bench-queue.sqlite3} $(BIN)/python -m bench.queue $(QUEUE_BENCH_ARGS)
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/db/bench-directory.sqlite3} $(BIN)/python -m bench.directory $(DIR_BENCH_ARGS)
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/db/bench-certificates.sqlite3} $(BIN)/python -m bench.certificates $(CERT_BENCH_ARGS)
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/db/bench-dashboard.sqlite3} $(BIN)/python -m bench.dashboard $(DASH_BENCH_ARGS)
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/db/bench-load.sqlite3} $(BIN)/python -m bench.load $(LOAD_BENCH_ARGS)

# Full stack: these need REDIS_URL (and DATABASE_URL for PostgreSQL).
worker: install
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: install
	$(BIN)/celery -A portal beat --loglevel=INFO

# Developers: extract strings after changing templates or code (needs GNU gettext).
messages: install
	DEBUG=true $(MANAGE) makemessages -l zh_Hans -l en --ignore=.venv --ignore=node_modules --ignore=tests --ignore=staticfiles --no-obsolete

# Regenerate the pinned requirement files from pyproject.toml.
lock: install
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --extra=dev -o requirements-dev.txt pyproject.toml

clean:
	rm -rf $(VENV) db staticfiles .pytest_cache .ruff_cache node_modules
