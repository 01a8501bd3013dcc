# The two commands of the README: `make run` and `make test`. `make prod-smoke` runs its Production section.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PORT ?= 5000
BIN = $(VENV)/bin
export FLASK_APP = wsgi

.PHONY: run test install lock worker beat bench prod-smoke

# Exactly the locked versions, each checked against its hash (production: requirements.lock alone).
$(BIN)/.installed: requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip > $(VENV)/pip.log 2>&1 || (tail -30 $(VENV)/pip.log; exit 1)
	$(BIN)/pip install --require-hashes -r requirements-dev.lock >> $(VENV)/pip.log 2>&1 || (tail -30 $(VENV)/pip.log; exit 1)
	touch $@

install: $(BIN)/.installed

# After changing dependencies in pyproject.toml: regenerate both lock files and commit them with it.
# Current pins are kept where they still fit; `make lock LOCK_FLAGS=--upgrade` takes the newest versions.
# The dev lock is constrained to the runtime lock, so both install the same runtime versions.
LOCK = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet $(LOCK_FLAGS)
lock: install
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -c requirements.lock -o requirements-dev.lock

# Embedded mode: SQLite under instance/, Celery eager, demo accounts (see README).
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest

worker: install
	$(BIN)/celery -A tasks.celery_app worker --loglevel=INFO

beat: install
	$(BIN)/celery -A tasks.celery_app beat --loglevel=INFO

# The README's Production section for real: the Procfile's gunicorn, worker and beat against a throwaway
# PostgreSQL database and Redis database (14), a journey over HTTP, everything stopped (ops/prod_smoke.sh).
prod-smoke: install
	VENV=$(VENV) timeout --kill-after=60 180 ops/prod_smoke.sh

bench: install
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done
