# list-hygiene: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
WAREHOUSE ?= $(CURDIR)/warehouse/list_hygiene.duckdb
DATA ?= $(CURDIR)/data_samples

# Airflow lives inside the repo (git-ignored), with a SQLite metadata DB.
export AIRFLOW_HOME := $(CURDIR)/airflow_home
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__LOGGING__LOGGING_LEVEL := WARNING
export LIST_HYGIENE_WAREHOUSE := $(WAREHOUSE)
export LIST_HYGIENE_DATA := $(DATA)
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False

.PHONY: install demo test lint run docs audit clean

install: $(VENV)/.installed

# Pinned: requirements.lock is the full resolved set (uv pip compile of pyproject.toml).
# --compile-bytecode: the dependencies' .pyc files are written once here, as pip does by default and uv does
# not; otherwise every task process (and with PYTHONDONTWRITEBYTECODE set, every one, every time) compiles
# Airflow, dbt and Great Expectations from source: `import great_expectations` 5.5 -> 2.6 s (docs/scaling.md).
$(VENV)/.installed: pyproject.toml requirements.lock Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e .
	touch $@

airflow_home/.ready: $(VENV)/.installed
	mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	$(BIN)/airflow pools set list_hygiene_warehouse 1 "DuckDB allows one writer: every warehouse task takes this slot" > /dev/null
	touch $@

## Run the daily DAG once on data_samples/ with `airflow dags test`, then print the summary.
demo: install airflow_home/.ready
	rm -f $(WAREHOUSE) $(WAREHOUSE).wal
	@# the DAGs into the metadata DB first, as a scheduler's DAG processor would: `dags test` alone does not register
	@# their Assets, so the ingest tasks' asset events were dropped with an "AssetModel ... not found" warning each
	$(BIN)/airflow dags reserialize > $(AIRFLOW_HOME)/reserialize.log 2>&1 || (cat $(AIRFLOW_HOME)/reserialize.log; exit 1)
	$(BIN)/airflow dags test list_hygiene_daily > $(AIRFLOW_HOME)/demo_dags_test.log 2>&1 \
		|| (tail -80 $(AIRFLOW_HOME)/demo_dags_test.log; echo "DAG run failed; full log: $(AIRFLOW_HOME)/demo_dags_test.log"; exit 1)
	@echo "DAG run finished (log: $(AIRFLOW_HOME)/demo_dags_test.log)"
	$(BIN)/list-hygiene summary --warehouse $(WAREHOUSE)

## The whole test suite.
test: install
	$(BIN)/ruff check plugins dags tests bench
	$(BIN)/pytest -q

## The pipeline without Airflow.
run: install
	$(BIN)/list-hygiene run --data $(DATA) --warehouse $(WAREHOUSE)

DOCS_DIR = $(dir $(WAREHOUSE))$(basename $(notdir $(WAREHOUSE)))_outputs/dbt_docs
QUARTER ?=

## Serve the dbt docs of the last run on http://127.0.0.1:8081 (one file: $(DOCS_DIR)/static_index.html)
docs: install
	@test -f $(DOCS_DIR)/index.html || (echo "no dbt docs yet: run 'make demo' first"; exit 1)
	$(BIN)/python -m http.server 8081 --bind 127.0.0.1 --directory $(DOCS_DIR)

## Quarterly audit of the warehouse (QUARTER=2026Q4; default: the quarter of the latest event)
audit: install
	$(BIN)/list-hygiene audit --warehouse $(WAREHOUSE) $(if $(QUARTER),--quarter $(QUARTER),)

lint: install
	$(BIN)/ruff check plugins dags tests bench

clean:
	rm -rf warehouse airflow_home dbt_project/target dbt_project/logs .pytest_cache
