# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 500

.PHONY: install run test lint bench worker clean backup restore load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Re-install only when requirements.txt changes.
$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty --patients $(DEMO_PATIENTS) --seed 1
	$(BIN)/python manage.py demo_logins --url http://$(HOST):$(PORT)/
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m bench

worker: install
	$(BIN)/celery -A registry worker --beat --loglevel INFO

clean:
	rm -rf $(VENV) staticfiles artifacts .pytest_cache .ruff_cache

# Backups of the PostgreSQL database named by DATABASE_URL (pg_dump custom format). See README.
BACKUP ?= backups/ovcf-$(shell date -u +%Y%m%dT%H%M%SZ).dump

backup:
	@test -n "$$DATABASE_URL" || { echo "set DATABASE_URL=postgres://..." >&2; exit 1; }
	@mkdir -p $(dir $(BACKUP))
	pg_dump --format=custom --no-owner --no-privileges --file="$(BACKUP)" "$$DATABASE_URL"
	@echo "backup written to $(BACKUP)"

# Replaces the database's contents with the backup, in one transaction.
restore:
	@test -n "$$DATABASE_URL" || { echo "set DATABASE_URL=postgres://..." >&2; exit 1; }
	@test -f "$(BACKUP)" || { echo "BACKUP=<file.dump> must name a backup" >&2; exit 1; }
	pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error --dbname="$$DATABASE_URL" "$(BACKUP)"
	@echo "restored $(BACKUP)"

# A bounded load test on loopback: gunicorn + PostgreSQL + a real Celery worker (see README).
load: install
	$(BIN)/python -m bench.load
