# Two commands are all a newcomer needs: `make run` and `make test`.
# Both set up what they need: a private uv (pinned) and the locked environment in .venv: `make run` only
# what running needs, `make test` the development tools too (pytest, ruff, ...).

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never

.PHONY: install install-run run setup test fuzz bench demo clean purge secrets dashboard-assets

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

LOCKED := uv.lock pyproject.toml shared/pyproject.toml services/*/pyproject.toml

# One stamp per environment. The running one syncs inexactly, so it never takes away the development
# tools a `make test` installed (and whose stamp would then lie).
$(VENV)/.installed: $(UV) $(LOCKED)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

$(VENV)/.installed-run: $(UV) $(LOCKED)
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
	touch $@

install: $(VENV)/.installed  ## everything, the development tools included

install-run: $(VENV)/.installed-run  ## only what running the services needs

setup: install-run  ## migrate the database and load the framework library and the demo units
	$(PY) -m gateway.cli setup

run: setup  ## start the four services in the foreground (Ctrl-C stops them)
	$(PY) scripts/run_services.py

test: install  ## the whole suite: PostgreSQL (TEST_DATABASE_URL) and the embedded SQLite path
	$(PY) -m pytest

FUZZ_EXAMPLES ?= 500
fuzz: install  ## each service against its own OpenAPI document (schemathesis), FUZZ_EXAMPLES random requests per operation
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz -p no:cacheprovider

bench: install  ## performance figures, each beside a reference measured in the same run
	$(PY) -m bench

.PHONY: load
load: install  ## 50 clients for 60 s of reads and writes on a throwaway database (LOAD_CLIENTS, LOAD_SECONDS)
	$(PY) -m bench.load

purge: install-run  ## remove the case data of inspections published more than GATEWAY_CASE_RETENTION_DAYS (365) ago
	$(PY) -m gateway.cli purge

secrets: install-run  ## the secrets docker-compose.yml reads, in ./secrets/ (each missing one made, the rest kept)
	$(PY) scripts/make_secrets.py

demo: install-run  ## one inspection end to end through the public API, against the services `make run` started
	$(PY) scripts/demo.py

dashboard-assets: install-run  ## refresh the dashboard's committed GOV.UK and MoJ Frontend assets from npm (needs Node)
	cd services/dashboard && npm ci --no-audit --no-fund
	$(PY) scripts/dashboard_assets.py

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .hypothesis
