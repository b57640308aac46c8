# Every target sets up its own virtualenv (.venv, the one Pulumi.yaml names) on first use, and again
# whenever the requirements, the package metadata or the package's list of modules change.
PYTHON ?= python3
STACK ?= dev
VENV := .venv
BIN := $(VENV)/bin
# The strict editable install links each module into build/; a new module needs a reinstall.
FINGERPRINT := $(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)-$(shell find components handler cli testing -name '*.py' -o -name py.typed | sort | cksum | cut -d' ' -f1)
INSTALLED := $(VENV)/.installed-$(FINGERPRINT)
WARMED := $(VENV)/.warmed-$(FINGERPRINT)
WARM_UP := $(BIN)/python -m tools.warm_bytecode && rm -f $(VENV)/.warmed-* && touch $(WARMED)
# Two workers: the 2-core machines this runs on; moto and the mock runtime are per process.
PYTEST := $(BIN)/python -m pytest -q -n 2
# Bytecode is cached (even where the environment says PYTHONDONTWRITEBYTECODE), outside the source tree:
# compiling on import every time made each test process pay for pulumi_aws again.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache

.PHONY: venv test lint unit plan rehearse compare bench mutate api-schema wheel clean

$(INSTALLED):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# uv resolves and installs in seconds where pip takes a minute and a half here.
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv>=0.9,<1'
	@# The package is reinstalled every time: uv keeps an editable install it already has, and the strict
	@# mode links only the modules that existed then (a new module would not import).
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --config-settings editable_mode=strict --reinstall-package batch-array-notify -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

# Compile, once on both cores, the bytecode every test process would otherwise compile for itself.
$(WARMED): $(INSTALLED)
	@$(WARM_UP)

## venv: create or update .venv with everything (the package, tools, tests); what every target uses
venv: $(WARMED)

## test: lint, type-check and run the whole suite (what CI runs)
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# On a fresh clone mypy (one process) runs beside the bytecode warm-up (two): 2 cores, under 1.2 GB.
	$(BIN)/mypy & types=$$!; test -e $(WARMED) || { $(WARM_UP); }; warmed=$$?; wait $$types && test $$warmed -eq 0
	$(PYTEST)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(WARMED)
	$(PYTEST)

## plan: what `pulumi up --stack $(STACK)` would create, as JSON, without an account
plan: $(INSTALLED)
	@$(BIN)/batch-array-notify plan --stack $(STACK)

## rehearse: the offline main job: one array job's whole event stream through the stack's rule and handler
rehearse: $(INSTALLED)
	$(BIN)/batch-array-notify rehearse --stack $(STACK) --size 7 --failures 2 --duplicates 1

## compare: our rule against the status-only rule and the containerInstanceArn trick (README table)
compare: $(INSTALLED)
	$(BIN)/batch-array-notify compare-rules --stack $(STACK)

## bench: the handler's and the rehearsal's benchmarks (tables on stdout)
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.handler_bench
	$(BIN)/python -m benchmarks.rehearse_bench

## mutate: mutation testing of handler/ and every component module over 40 lines (not in CI; the report goes to build/mutate/, docs/testing.md has its cost)
mutate: $(INSTALLED)
	$(BIN)/python -m tools.mutate

## api-schema: accept an additive API change (regenerates docs/api-schema.json, see CHANGELOG.md)
api-schema: $(INSTALLED)
	$(BIN)/python -m tools.api_schema --write

## wheel: the package as a wheel in dist/ (what another program's requirements.txt can name; see the README)
wheel: $(INSTALLED)
	@# --no-build-isolation: .venv's setuptools builds it, nothing is downloaded.
	@$(BIN)/uv build --wheel --no-build-isolation --python $(BIN)/python --out-dir dist --quiet .
	@ls dist/*.whl

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
