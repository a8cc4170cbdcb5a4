# The two commands in README: `make plan` (offline plan of the test stack) and
# `make test` (lint, type-check, tests). Each creates the virtualenv if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: plan test lint typecheck pytest bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

plan: $(STAMP)
	$(PY) -m infra plan --stack test

test: lint typecheck pytest

lint: $(STAMP)
	$(PY) -m ruff check infra tests benchmarks policies __main__.py

typecheck: $(STAMP)
	$(PY) -m mypy --strict infra

pytest: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/plan_scaling.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
