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

run: seed
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Production settings on plain http://127.0.0.1 (HTTPS=0: no redirect, no Secure cookies).
serve: seed
	DEBUG=0 HTTPS=$${HTTPS:-0} $(BIN)/python manage.py collectstatic --noinput
	DEBUG=0 HTTPS=$${HTTPS:-0} $(BIN)/gunicorn mecfs_kb.wsgi --bind 127.0.0.1:$(PORT) --workers 2

# Known vulnerabilities in the installed dependencies (needs PyPI's JSON API).
audit: install
	$(BIN)/pip-audit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
