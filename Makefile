# The two commands a new machine needs: `make run` and `make test`.
# Both create .venv and install the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck contracts unit integration bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/commerce dev

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest tests/unit tests/contract -m "not slow"

integration: install
	$(BIN)/pytest tests/integration

test: lint typecheck contracts
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/eventstore.py
	$(BIN)/python bench/projections.py
	$(BIN)/python bench/projection_cost.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/webhook_cost.py
	$(BIN)/python bench/merchant_webhooks.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/request_cost.py
	$(BIN)/python bench/quotes.py
	$(BIN)/python bench/relay.py
	$(BIN)/python bench/flash_sale.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
