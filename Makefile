# The two commands: `make run` serves the CRM with demo data, `make test` runs every check.
# Both set up a virtual environment from the pinned requirements.lock on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8001
MICROSOFT_PORT ?= 8002
MICROSOFT_CONSENT_PORT ?= 8003
CALDAV_PORT ?= 8004
SANDBOX := http://127.0.0.1:$(SANDBOX_PORT)
MICROSOFT := https://127.0.0.1:$(MICROSOFT_PORT)

.PHONY: run test test-slow setup lint lock clean

setup: $(STAMP)

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	touch $(STAMP)

# The web server, the sandboxes (and a Radicale CalDAV server for the demo), and a Celery worker with beat beside them (the syncs run there, never in
# a request); all stop together. The worker's log goes to data/worker.log.
RUN_ENV := DEBUG=true CALENDARSYNC_GOOGLE_SANDBOX_URL=$(SANDBOX) CALENDARSYNC_MICROSOFT_SANDBOX_URL=$(MICROSOFT) \
	CALENDARSYNC_MICROSOFT_CA_BUNDLE=data/sandbox-tls/sandbox-ca.pem \
	CALENDARSYNC_MICROSOFT_SANDBOX_CONSENT_URL=http://127.0.0.1:$(MICROSOFT_CONSENT_PORT) \
	CALENDARSYNC_CALDAV_DEMO_URL=http://127.0.0.1:$(CALDAV_PORT)/ CALENDARSYNC_CALDAV_ALLOW_LOOPBACK=true

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py install_sync_defaults
	trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py run_sandboxes --demo --state-dir data/sandbox-state \
		--google-port $(SANDBOX_PORT) --microsoft-port $(MICROSOFT_PORT) \
		--microsoft-consent-port $(MICROSOFT_CONSENT_PORT) --caldav-port $(CALDAV_PORT) & \
	$(RUN_ENV) $(BIN)/celery -A config worker --beat --schedule data/celerybeat-schedule --pool threads \
		--concurrency 4 --without-gossip --without-mingle --without-heartbeat --loglevel INFO \
		--logfile data/worker.log & \
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: setup lint
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0
	$(BIN)/pytest

# The long explorations left out of `make test` (20,000 steps of the convergence machine per world);
# CONVERGENCE_STEPS=<n> changes the length, CONVERGENCE_SEED=<seed> replays a run.
test-slow: setup
	$(BIN)/pytest -m slow -s

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Re-pin every dependency after a change to pyproject.toml.
lock:
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
