# The two set-up commands of the README are `make demo` and `make test`; everything else
# builds on the same virtual environment, which has every extra: the emulators' (sandbox)
# for the demo and the tests, the dev tools, and the benchmarks' contenders.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,sandbox,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: install  ## start the bundled emulators and run real queries against them
	$(BIN)/sqlprovider demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest

test: lint typecheck unit  ## everything CI runs

bench: install  ## the performance benchmarks; results go to docs/performance.md
	$(BIN)/python -m benchmarks

docs: install
	$(BIN)/python -m sqlprovider.cli.reference > docs/cli.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
