# Every target sets up its own virtualenv (.venv, the one Pulumi.yaml names) on first use.
PYTHON ?= python3
STACK ?= dev
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: test lint unit plan rehearse compare bench clean

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

## test: lint, type-check and run the whole suite (what CI runs)
test: lint unit

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(INSTALLED)
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m pytest -q

## plan: what `pulumi up --stack $(STACK)` would create, as JSON, without an account
plan: $(INSTALLED)
	$(BIN)/python -m tools.plan --stack $(STACK)

## rehearse: the offline main job: one array job's whole event stream through the stack's rule and handler
rehearse: $(INSTALLED)
	$(BIN)/python -m tools.rehearse --stack $(STACK) --size 7 --failures 2 --duplicates 1

## compare: our rule against the status-only rule and the containerInstanceArn trick (README table)
compare: $(INSTALLED)
	$(BIN)/python -m tools.compare_rules --stack $(STACK)

## bench: the handler's and the rehearsal's benchmarks (tables on stdout)
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.handler_bench
	$(BIN)/python -m benchmarks.rehearse_bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
