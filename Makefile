# The two set-up commands are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_WORKERS ?= 2

RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: run test lint format keys migrate worker beat bench fuzz schema docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt requirements-docs.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $(DOCS_STAMP) $@

$(DOCS_STAMP): requirements-docs.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-docs.txt
	touch $@

## Install, migrate, create a demo admin and serve on http://$(HOST):$(PORT)
run: $(RUNTIME_STAMP) migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py ensure_demo_admin --base-url http://$(HOST):$(PORT)
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers $(WEB_WORKERS) --threads 4

## Without SECRET_KEY: make random signing keys once, kept in var/secret-keys.env (0600)
keys: $(RUNTIME_STAMP)
	$(BIN)/python -m core.signing_keys

## The embedded SQLite file lives in var/ (settings never make folders)
migrate: $(RUNTIME_STAMP) keys
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable

## Run the whole test suite (SQLite by default; PostgreSQL/Redis with DATABASE_URL/REDIS_URL),
## in TEST_PROCESSES processes (pytest-xdist; each has its own test database and Redis database)
TEST_PROCESSES ?= auto
test: $(DEV_STAMP) keys
	CACHE_KEY_PREFIX=um-test $(BIN)/python -m pytest -n $(TEST_PROCESSES) --maxprocesses 8 --dist loadfile $(PYTEST_ARGS)

lint: $(DEV_STAMP) keys
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Celery processes for the production set-up (needs CELERY_BROKER_URL)
worker: $(RUNTIME_STAMP) keys
	$(BIN)/celery -A config worker --loglevel INFO

beat: $(RUNTIME_STAMP) keys
	$(BIN)/celery -A config beat --loglevel INFO

## Benchmarks on a demo database (wrk, py-spy); writes docs/BENCHMARKS.md (BENCH_ARGS=--quick: a check)
bench: $(DEV_STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Schemathesis over every operation against a live server (FUZZ_EXAMPLES per operation)
fuzz: $(DEV_STAMP)
	$(BIN)/python fuzz/run.py

## The documentation site from docs/ into var/site (a broken link or a page missing from the nav fails it)
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir var/site

schema: $(RUNTIME_STAMP) keys
	$(BIN)/python manage.py spectacular --validate --file var/openapi.yaml

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
