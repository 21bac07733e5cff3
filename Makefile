# The two commands a newcomer needs: `make run` and `make test`. Each sets everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench soak i18n-extract clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

run: install
	$(BIN)/python run_bot.py $(ARGS)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench.run

soak: install
	$(BIN)/python -m bench.soak $(ARGS)

i18n-extract: install
	$(BIN)/python run_bot.py i18n extract

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/results.json bench/results.previous.json
