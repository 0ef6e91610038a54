# Facho: `make run` starts everything on embedded defaults; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run demo test deps deps-test bench reliability clean

$(BIN)/python:
	PYTHON=$(PYTHON) scripts/bootstrap-venv

$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.deps-test: requirements-test.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-test.txt
	touch $@

deps: $(VENV)/.deps

deps-test: $(VENV)/.deps $(VENV)/.deps-test
	scripts/install-test-system-deps.sh
	scripts/install-snmpsim.sh

## Set up (venv, database, seed, staff user) and start web + worker + scheduler.
run: deps
	scripts/run-dev

## `make run` plus a simulated OLT whose ONUs fill the inventory within a minute.
demo: deps
	scripts/run-dev --demo

## Install what the tests need and run the whole suite.
test: deps-test
	scripts/run-tests

## The whole reliability suite (faults, load, bad input, security), long part included;
## writes bench/results/reliability.json.
reliability: deps-test
	scripts/run-reliability

bench: deps-test
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache
