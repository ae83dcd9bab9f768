# Parcours: `make run` runs the whole network with demo data; `make test` runs the test suite.
# Both set everything up on a fresh machine (virtual environment, packages, broker plugins).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SERVICES := intake diagnostic programmes reporting
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test test-faults bench setup broker browser promtool clean lint contracts

$(STAMP): requirements.txt shared/pyproject.toml shared/testing/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)
	@command -v $(PYTHON) >/dev/null || { echo "Parcours needs Python 3.11 ($(PYTHON) not found): install python3.11 and retry, or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	@echo "==> creating the virtual environment in $(VENV) and installing the four services"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=23"
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $(STAMP)

# AsyncAPI's own parser, which the tests use to validate docs/events/asyncapi.yaml (tools/asyncapi).
ASYNCAPI_TOOL := tools/asyncapi/node_modules/.installed
$(ASYNCAPI_TOOL): tools/asyncapi/package.json tools/asyncapi/package-lock.json
	@command -v npm >/dev/null || { echo "the contract checks need Node.js 20 and npm: install them and retry"; exit 1; }
	@echo "==> installing AsyncAPI's parser into tools/asyncapi/node_modules"
	npm ci --prefix tools/asyncapi --silent
	@touch $(ASYNCAPI_TOOL)

# Swagger UI's files, which every service serves at GET /docs (tools/api-docs).
API_DOCS_UI := tools/api-docs/node_modules/.installed
$(API_DOCS_UI): tools/api-docs/package.json tools/api-docs/package-lock.json
	@command -v npm >/dev/null || { echo "the API documents' page needs Node.js 20 and npm: install them and retry"; exit 1; }
	@echo "==> installing Swagger UI into tools/api-docs/node_modules"
	npm ci --prefix tools/api-docs --silent
	@touch $(API_DOCS_UI)

# Chart.js, which reporting's dashboard serves itself (tools/dashboard: no CDN).
DASHBOARD_ASSETS := tools/dashboard/node_modules/.installed
$(DASHBOARD_ASSETS): tools/dashboard/package.json tools/dashboard/package-lock.json
	@command -v npm >/dev/null || { echo "the dashboard's charts need Node.js 20 and npm: install them and retry"; exit 1; }
	@echo "==> installing Chart.js into tools/dashboard/node_modules"
	npm ci --prefix tools/dashboard --silent
	@touch $(DASHBOARD_ASSETS)

# playwright-core, which drives Chromium through the web pages in the tests (tools/browser).
BROWSER_TOOL := tools/browser/node_modules/.installed
$(BROWSER_TOOL): tools/browser/package.json tools/browser/package-lock.json
	@command -v npm >/dev/null || { echo "the browser tests need Node.js 20 and npm: install them and retry"; exit 1; }
	@echo "==> installing playwright-core into tools/browser/node_modules"
	npm ci --prefix tools/browser --silent
	@touch $(BROWSER_TOOL)

setup: $(STAMP) $(ASYNCAPI_TOOL) $(API_DOCS_UI) $(DASHBOARD_ASSETS) $(BROWSER_TOOL)

# Makes sure RabbitMQ runs here, with the management API the tests use (scripts/ensure_broker.sh).
broker:
	@bash scripts/ensure_broker.sh

run: setup broker
	$(BIN)/python scripts/run_network.py

# Debian's Chromium for the browser tests (scripts/ensure_browser.sh).
browser:
	@bash scripts/ensure_browser.sh

# Debian's promtool for the alert rules' tests (scripts/ensure_promtool.sh).
promtool:
	@bash scripts/ensure_promtool.sh

test: setup broker browser promtool
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The event contract from the code: docs/events/asyncapi.yaml and one JSON Schema per event type
# and version. Refuses to change a released version in a way that breaks integrators.
contracts: setup
	$(BIN)/python -W ignore scripts/contracts.py

# Throughput and latency against the raw broker (bench/README.md); writes bench/RESULTS.md.
bench: setup broker
	$(BIN)/python bench/run.py

# The fault-injection suite at full size: a thousand cases per fault, against PostgreSQL; the
# results table goes into tests/faults/README.md. (`make test` runs it with 20 cases.)
FAULTS_DATABASE_URL ?= $(or $(DATABASE_URL),postgresql://postgres@127.0.0.1:5432/test)
FAULT_CASES ?= 1000
test-faults: setup broker
	@rm -f tests/faults/results.jsonl
	DATABASE_URL=$(FAULTS_DATABASE_URL) PARCOURS_FAULT_CASES=$(FAULT_CASES) \
	  PARCOURS_FAULT_RESULTS=tests/faults/results.jsonl \
	  $(BIN)/python -m pytest tests/faults -v -s $(PYTEST_ARGS)
	$(BIN)/python tests/faults/report.py tests/faults/results.jsonl tests/faults/README.md

clean:
	rm -rf $(VENV) data .pytest_cache tests/faults/results.jsonl tools/asyncapi/node_modules tools/api-docs/node_modules tools/browser/node_modules
