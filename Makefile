# il2-ecrf: `make run` starts everything on one machine; `make test` runs every check.
# Without DATABASE_URL an embedded PostgreSQL (var/pgdata) is started and stopped around the
# command; without CELERY_BROKER_URL the broker is kombu's filesystem transport (var/broker).
# `make run` runs the app as the database role il2_app, migrations as the owner (README).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEVENV := $(PY) scripts/devenv.py --

.PHONY: run test bench venv dev-deps lint migrations-check messages clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

dev-deps: $(VENV)/.dev-installed

run: venv
	mkdir -p var/broker var/mail
	DEBUG=$${DEBUG:-1} REMINDER_SITE_URL=$${REMINDER_SITE_URL:-http://127.0.0.1:$${WEB_PORT:-8000}} \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/devenv.py --app-role il2_app -- sh scripts/run.sh

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

migrations-check: dev-deps
	DEBUG=1 $(DEVENV) $(PY) manage.py makemigrations --check --dry-run

test: lint migrations-check
	DEBUG=$${DEBUG:-1} PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(DEVENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

# The Simplified Chinese catalogue: extract the code's messages into locale/zh_Hans (new ones
# empty, changed ones fuzzy), compile the .mo the site reads (committed: running the site
# needs no gettext tools). Then translate what `$(PY) scripts/untranslated.py` lists and run
# this again. Needs GNU gettext (msgfmt, xgettext, msgmerge).
# (Settings need a DATABASE_URL; neither command connects to it.)
MESSAGES_ENV := DEBUG=1 DATABASE_URL=$${DATABASE_URL:-postgres://unused/unused}
messages: venv
	$(MESSAGES_ENV) $(PY) manage.py makemessages -l zh_Hans
	$(MESSAGES_ENV) $(PY) manage.py compilemessages -l zh_Hans
	$(PY) scripts/untranslated.py --count

# A synthetic study at 500 and 5,000 participants, timed behind gunicorn (README, Benchmark);
# the table goes to bench/results.md. A quick run: make bench BENCH_ARGS="--participants 200".
bench: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(DEVENV) $(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf var/broker var/mail staticfiles .pytest_cache
