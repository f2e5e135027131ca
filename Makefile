# `make run` and `make test` do all the set-up on a fresh clone (README "Quick start").
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/credit_repair
REDIS_URL ?= redis://127.0.0.1:6379/15
CACHE_URL ?= redis://127.0.0.1:6379/13

.PHONY: install venv system-deps run test test-services test-e2e lint typecheck messages translations bench screenshots clean

venv: $(STAMP) translations

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# The .mo files are build output: compiled from the committed .po catalogues on every run.
translations: $(STAMP)
	$(BIN)/python manage.py compile_translations

# For developers changing UI text (needs GNU gettext): extract new strings into the catalogues.
messages: venv
	$(BIN)/python manage.py makemessages -l zh_Hans --no-location --ignore=.venv --ignore=var --ignore=tests

system-deps:
	@bash scripts/system-deps.sh

install: venv system-deps

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --quiet-logins
	$(BIN)/python manage.py dev_signing_setup
	@bash scripts/run-embedded.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy credit config letters notifications objections repair portal workspace

# No servers: SQLite, eager Celery.
test: lint typecheck translations
	$(BIN)/python manage.py makemigrations --check --dry-run
	CELERY_TASK_ALWAYS_EAGER=1 $(BIN)/pytest -m "not services and not e2e"

# Real servers: the whole suite on PostgreSQL with the shared Redis cache (sessions, rate limits), plus the
# tests that need a real broker and worker (Redis).
test-services: venv
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) CACHE_URL=$(CACHE_URL) $(BIN)/pytest -m "not e2e"

# The browser tier: Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded browser)
# through the pages of a live server (SQLite, eager Celery). Screenshots go to var/e2e-artifacts/.
test-e2e: venv system-deps
	rm -rf var/e2e-artifacts
	E2E_REQUIRED=1 CELERY_TASK_ALWAYS_EAGER=1 DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -m e2e -rxX tests/e2e

# The user guides' images (docs/guides/): a throwaway demo driven in Debian's Chromium, about five minutes.
screenshots: venv system-deps
	$(BIN)/python scripts/screenshots.py

# Benchmarks report figures and ratios (docs/performance.md); they are not tests.
bench: venv
	$(BIN)/python bench/letters.py
	$(BIN)/python bench/intake.py   # needs PostgreSQL, Redis and wrk on this machine
	$(BIN)/python bench/deadlines.py   # needs PostgreSQL and Redis
	$(BIN)/python bench/queue.py   # needs PostgreSQL and Redis

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
