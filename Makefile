# Two commands set up a fresh machine: `make run` (the local stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck install clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m infra.local $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check chalicelib app.py infra tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m infra.dynamodb_local
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check chalicelib app.py infra tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
