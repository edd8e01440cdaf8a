# searchsite: `make demo` runs the demo, `make test` runs the whole suite.
# Both set everything up first; a second run only does what is missing.

VENV := .venv
PY := $(VENV)/bin/python
# Runs a command with the embedded PostgreSQL up (unless DATABASE_URL is set),
# and stops the server afterwards if it started it.
WITH_DB := $(PY) -m searchsite.embedded_postgres run --

.PHONY: demo test reliability bench install browser stop lint

# The demo is a development server: DEBUG on unless you say otherwise.
demo: install
	DEBUG=$${DEBUG:-1} $(WITH_DB) $(PY) manage.py demo

test: install browser
	$(WITH_DB) $(PY) -m pytest

# The reliability suite long (tests/reliability/conftest.py: the RELIABILITY_* settings); make test runs it short.
reliability: install
	RELIABILITY_SECONDS=$${RELIABILITY_SECONDS:-60} RELIABILITY_CLIENTS=$${RELIABILITY_CLIENTS:-8} \
	RELIABILITY_EXAMPLES=$${RELIABILITY_EXAMPLES:-1000} $(WITH_DB) $(PY) -m pytest tests/reliability

# One catalog size per run (docs/benchmarks.md); results merge into docs/benchmarks.json.
SIZE := 10000
bench: install
	$(WITH_DB) $(PY) -m bench --size $(SIZE)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || { python=$$(scripts/find-python) && $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# Debian's chromium for the browser tests; without it they skip and say why.
browser:
	@scripts/install-chromium

stop: install
	$(PY) -m searchsite.embedded_postgres stop

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy
