# Kindred — `make help` lists what is here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run remove-demo install dev test test-postgres test-fast test-security lint format bench model filter-report messages clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's|$$(HOST)|$(HOST)|g' -e 's|$$(PORT)|$(PORT)|g' \
		| awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: install ## Create .venv, install, migrate, seed the demo, serve on http://$(HOST):$(PORT)
	$(BIN)/kindred serve --host $(HOST) --port $(PORT) --demo

remove-demo: install ## Delete the demo members, their threads and replies (nothing else)
	$(BIN)/kindred remove-demo

install: $(BIN)/.installed ## Create .venv and install Kindred (pinned by constraints.txt)

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e .
	touch $@

dev: $(BIN)/.dev-installed node_modules/.installed ## Install the test and lint tools too

$(BIN)/.dev-installed: $(BIN)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

test: dev lint ## Install dev tools and run the whole suite (lint, unit, services, browser)
	$(BIN)/pytest

test-postgres: dev ## The tests that meet a database, again on PostgreSQL + Redis (127.0.0.1; CI runs it after `make test`)
	KINDRED_TEST_BACKEND=postgres $(BIN)/pytest -m "not e2e"

test-fast: dev ## Run the suite without the browser and service tests
	$(BIN)/pytest -m "not e2e and not services"

test-security: dev ## The adversarial suite alone (tests/security: anonymity, access, web attacks, abuse, faults, privacy at rest)
	$(BIN)/pytest tests/security

lint: dev ## ruff (lint + format check), the import-linter layer contracts, no foreign tables
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python tools/check_tables.py

format: dev ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: dev ## Run the benchmarks in bench/ and print their tables
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

model: dev ## Retrain the safety filters' classifiers from tests/moderation/data (deterministic)
	$(BIN)/python tools/train_filters.py

filter-report: dev ## Precision/recall of the safety filters by category on the frozen test splits (English, then Spanish) and the held-out crisis lines
	$(BIN)/python tools/filter_report.py --split test
	$(BIN)/python tools/filter_report.py --split heldout crisis
	$(BIN)/python tools/filter_report.py --split test --lang es
	$(BIN)/python tools/filter_report.py --split test2 --lang es crisis

messages: dev ## Extract the interface's texts to locale/messages.pot and merge them into each language's .po
	$(BIN)/pybabel extract -F babel.cfg --add-location=file --sort-by-file --omit-header -o locale/messages.pot core identity communities moderation forum chat kindred templates static/js
	$(BIN)/pybabel update -i locale/messages.pot -d locale --no-fuzzy-matching --ignore-pot-creation-date

clean: ## Remove the virtualenv, node_modules and caches (keeps ./data)
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
