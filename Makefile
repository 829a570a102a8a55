# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Find a Python >= 3.12: PATH first, then pyenv's versions, then common locations.
PYTHON_CANDIDATES := python3.13 python3.12 python3 \
	$(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3) \
	$(wildcard $(shell pyenv root 2>/dev/null)/versions/3.1[2-9]*/bin/python3) \
	$(wildcard /usr/local/bin/python3.1[2-9]) $(wildcard /usr/bin/python3.1[2-9])
BASE_PYTHON ?= $(shell for p in $(PYTHON_CANDIDATES); do \
	  if command -v $$p >/dev/null 2>&1 && PYENV_VERSION= $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	    command -v $$p; break; fi; done)

.PHONY: run test lint typecheck unit venv bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(BASE_PYTHON)" ]; then echo "error: no Python >= 3.12 found (tried: $(PYTHON_CANDIDATES)); install one or set BASE_PYTHON=/path/to/python3.12" >&2; exit 2; fi
	@echo "using $(BASE_PYTHON) ($$($(BASE_PYTHON) --version))"
	@test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/govsim demo

lint: $(STAMP)
	$(VENV)/bin/ruff check abm experiments calibration govsim tests benchmarks scripts
	$(VENV)/bin/ruff format --check abm experiments calibration govsim tests benchmarks scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -n 2 -m "not slow" tests

test: lint typecheck unit

bench: $(STAMP)
	$(PY) benchmarks/bench_ratio.py --json benchmarks/results/bench_ratio.json
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_citizens.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
