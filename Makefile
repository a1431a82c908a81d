# newswire: one entry point for the common commands. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo up test bench clean

$(BIN)/newswire: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/newswire

## setup: the virtualenv (.venv) with newswire and its test tools, and the Elasticsearch server zip (via Maven)
setup: $(BIN)/newswire
	$(BIN)/newswire es fetch

## demo: the main job: start a local Elasticsearch, run the ingestion DAG once through Airflow, show a search
demo: setup
	$(BIN)/newswire demo

## up: keep running: local Elasticsearch + Airflow standalone (scheduler, UI on :8080) with the bundled config
up: setup
	$(BIN)/newswire demo --standalone

## test: the whole test suite against a real Elasticsearch, a real Airflow and a local HTTP server
test: setup
	$(BIN)/pytest

bench: setup
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	-$(BIN)/newswire es stop
	rm -rf .airflow .pytest_cache
