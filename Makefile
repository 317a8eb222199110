# Two commands for a fresh machine with Python 3.11+:  make run  and  make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

# Local development defaults; production sets DEBUG=0 and a real SECRET_KEY.
export DEBUG ?= 1

.PHONY: run test install migrate seed serve audit lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py load_seed
	$(BIN)/python manage.py load_literature
	$(BIN)/python manage.py publish_release

run: seed
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The suite runs on every core with pytest-xdist: each worker has its own test database
# (pytest-django adds _gw0, _gw1, ... to its name), a copy of one migrated template
# (tests/template_db.py: migrated once, not once per worker and again for the contract
# run), and takes whole test files, so a module's shared data is made once. PYTEST_WORKERS=0 runs it serially in one process;
# `.venv/bin/pytest tests/test_x.py` runs one file serially as before.
# tests/test_api_contract.py runs afterwards in one process: schemathesis makes its
# tests (one per API operation) inside the test function, which xdist's workers do not
# report; run in parallel, 116 of its 120 tests would silently not run.
PYTEST_WORKERS ?= auto
CONTRACT_TESTS := tests/test_api_contract.py
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --ignore=$(CONTRACT_TESTS) $(PYTEST_ARGS)
	@# Exit status 5: PYTEST_ARGS (say -k csv) selected none of the contract tests.
	$(BIN)/python -m pytest $(CONTRACT_TESTS) $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Production settings on plain http://127.0.0.1 (HTTPS=0: no redirect, no Secure cookies),
# gunicorn as in production (docs/deploy.md): mecfs_kb/gunicorn_conf.py's workers (two
# sync workers per core) unless WORKERS (and THREADS, for threaded workers) say otherwise.
# A throw-away SECRET_KEY is made up unless one is given; SEED=0 serves the database as
# it is (e.g. after generate_synthetic, which refuses to mix with the seed).
WORKERS ?=
THREADS ?=
SEED    ?= 1
LOCAL_HOSTS := 127.0.0.1,localhost
serve: export SECRET_KEY := $(or $(SECRET_KEY),$(shell $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))'))
serve: export ALLOWED_HOSTS := $(or $(ALLOWED_HOSTS),$(LOCAL_HOSTS))
serve: migrate
	@if [ "$(SEED)" != "0" ]; then $(BIN)/python manage.py load_seed && $(BIN)/python manage.py load_literature && $(BIN)/python manage.py publish_release; fi
	DEBUG=0 HTTPS=$${HTTPS:-0} $(BIN)/python manage.py collectstatic --noinput -v0
	@# With Redis, the worker that warms the caches after a publish (docs/deploy.md) runs
	@# beside gunicorn and stops with it; without Redis there is nothing to warm.
	DEBUG=0 HTTPS=$${HTTPS:-0} SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} sh -c '\
		if [ -n "$$REDIS_URL" ]; then \
			$(BIN)/python manage.py rqworker --job-class django_tasks_rq.Job default & \
			trap "kill $$! 2>/dev/null" EXIT INT TERM; \
		fi; \
		$(BIN)/gunicorn mecfs_kb.wsgi --config python:mecfs_kb.gunicorn_conf \
			--bind 127.0.0.1:$(PORT) $(if $(WORKERS),--workers $(WORKERS)) \
			$(if $(THREADS),--threads $(THREADS))'

# Known vulnerabilities in the installed dependencies (needs PyPI's JSON API).
audit: install
	$(BIN)/pip-audit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
