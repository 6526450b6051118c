# Two commands set up a fresh machine: `make run` (the local stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck install clean simulate

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip<26.3'  # chalice 1.34 supports pip < 26.3
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m infra.local $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check chalicelib sandbox app.py infra tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m infra.dynamodb_local
	$(BIN)/python -m pytest -n auto --maxschedchunk 2 --durations=25  # a worker per core (pytest-xdist)

# The deterministic simulator (tests/simulation/): SEED, SEEDS seeds from it, STEPS each.
SEED ?= 1
SEEDS ?= 1
STEPS ?= 400
simulate: $(STAMP)
	PYTHONHASHSEED=0 $(BIN)/python -m tests.simulation --seed $(SEED) --seeds $(SEEDS) --steps $(STEPS) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check chalicelib sandbox app.py infra tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache

# Package the sample provinces and lint each template for its region (offline; build/<stage>).
.PHONY: package-check
package-check: $(STAMP)
	for province in 11 31 44; do \
		$(BIN)/python -m infra.cli deploy --province $$province --dry-run || exit 1; \
	done

# Forget the local stack's data (tables and sandbox bank); the next `make run` starts empty.
.PHONY: clean-local
clean-local:
	rm -rf var/local
