# One entry point for setting up, running and checking Pigeon; see docs/operations.md.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
BOOTSTRAP_PYTHON ?= python3
LOCAL := deploy/local/pigeon-local
PYTEST_ARGS ?=

export PIGEON_PYTHON := $(PYTHON)

.PHONY: help setup up down infra status test lint format compose-check bench check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

setup: ## create the virtualenv if missing and install Pigeon with its dev tools
	@[ -x "$(PYTHON)" ] || $(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'

up: ## start Kafka, PostgreSQL and the four services
	$(LOCAL) up

down: ## stop the services, Kafka and PostgreSQL
	$(LOCAL) down

infra: ## start Kafka and PostgreSQL only
	$(LOCAL) infra-up

status: ## show what is running
	@$(LOCAL) status

test: infra ## run the test suite against the local Kafka and PostgreSQL
	eval "$$($(LOCAL) env)" && $(PYTHON) -m pytest $(PYTEST_ARGS)

lint: ## check formatting, lint rules and types
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

format: ## apply the formatter and the safe lint fixes
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

compose-check: ## validate docker-compose.yml against the Compose specification
	$(PYTHON) -m check_jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

bench: infra ## run every benchmark under bench/
	eval "$$($(LOCAL) env)"; \
	for script in bench/*/run.py; do \
	  [ -e "$$script" ] || continue; \
	  module=$${script%.py}; module=$${module//\//.}; \
	  echo "== $$module"; \
	  $(PYTHON) -m "$$module"; \
	done

check: lint compose-check test ## everything CI runs
