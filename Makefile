# The two commands: `make run` serves Gemba with demo data, `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: migration install run test test-sqlite test-postgresql chromium bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/gemba db upgrade
	$(VENV)/bin/gemba demo --if-empty
	$(VENV)/bin/gemba worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(VENV)/bin/gemba serve --host 127.0.0.1 --port 5000

# The field-app tests drive Debian's chromium; install it when we can, else say what is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Missing /usr/bin/chromium: install Debian's package with 'sudo apt-get install chromium'"; exit 1; \
	  fi; \
	fi

test-sqlite: $(STAMP) chromium
	GEMBA_TEST_DB=sqlite $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# PostgreSQL is the production register; the suite must pass on it too (browser tests once is enough).
test-postgresql: $(STAMP)
	GEMBA_TEST_DB=postgresql $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -m "not e2e"

test: test-sqlite test-postgresql

bench: $(STAMP)
	$(PY) -m bench

# schemathesis against /api/openapi.json of a served demo: any 5xx or traceback fails.
# FUZZ_DB=postgresql for PostgreSQL; FUZZ_MAX_EXAMPLES (30) examples an operation.
fuzz: $(STAMP)
	$(PY) -m pip install --quiet -e '.[fuzz]'
	FUZZ_DB=$(FUZZ_DB) scripts/fuzz-api

clean:
	rm -rf $(VENV) instance .pytest_cache

# Before the first release: rebuild the single initial migration from the models.
migration: $(STAMP)
	scripts/regen-initial-migration
