# Parcours: `make run` runs the whole network with demo data; `make test` runs the test suite.
# Both set everything up on a fresh machine (virtual environment, packages, broker plugins).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SERVICES := intake diagnostic programmes reporting
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test test-faults bench setup broker clean lint

$(STAMP): requirements.txt shared/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)
	@command -v $(PYTHON) >/dev/null || { echo "Parcours needs Python 3.11 ($(PYTHON) not found): install python3.11 and retry, or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	@echo "==> creating the virtual environment in $(VENV) and installing the four services"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=23"
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $(STAMP)

setup: $(STAMP)

# Makes sure RabbitMQ runs here, with the management API the tests use (scripts/ensure_broker.sh).
broker:
	@bash scripts/ensure_broker.sh

run: setup broker
	$(BIN)/python scripts/run_network.py

test: setup broker
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache
