# README's two commands: `make plan` (offline plan of the test stack) and `make test`
# (lint, type-check, tests, a small benchmark run). Each builds .venv first when it is
# missing, stale or broken, and installs the project into it: `.venv/bin/billing`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
POLICY_VENV := policies/venv
# The supported Python is stated once, as pyproject.toml's `requires-python = ">=X.Y"`.
MIN_PYTHON := $(shell sed -n 's/^requires-python = ">=\([0-9.]*\)"$$/\1/p' pyproject.toml)
# Exits 0 when the interpreter running it is new enough; valid on any Python 3.
NEW_ENOUGH := -c "import sys; sys.exit(sys.version_info[:2] < tuple(map(int, '$(MIN_PYTHON)'.split('.'))))"
# A tmpfs /dev/shm that allows executables and has 1 GiB free (a run keeps ~50 MB there, pytest keeps
# three runs; a container's default /dev/shm is 64 MB), where `make pytest` puts its temp files; else empty.
# (findmnt lists a mount point's stacked mounts, the one in effect last.)
TEST_TMP := $(shell test -w /dev/shm && findmnt -n -b -o FSTYPE,AVAIL,OPTIONS --target /dev/shm 2>/dev/null \
	| tail -n 1 | awk '$$1 == "tmpfs" && $$2 >= 1073741824 && $$3 !~ /noexec/ { print "/dev/shm" }')
# What the user asked for, named in the advice when the Python is too old.
GOALS ?= $(or $(MAKECMDGOALS),venv)

.PHONY: venv fresh-venv python-check policy-venv plan test lint typecheck pytest pytest-pure bench clean engine engine-test

# A virtualenv whose interpreter is gone, too old or without pip (a `python -m venv`
# that failed half-way) is rebuilt, never reused. The stamp is written only after
# every install succeeded, so a failed install is retried, not trusted.
venv:
	@{ $(PY) $(NEW_ENOUGH) && $(PY) -m pip --version; } >/dev/null 2>&1 || $(MAKE) --no-print-directory fresh-venv GOALS="$(GOALS)"
	@$(MAKE) --no-print-directory $(STAMP)

fresh-venv: python-check
	rm -rf $(VENV)
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed. On Debian/Ubuntu install the venv module:" \
	       "sudo apt install python3-venv (or python3.X-venv for your version), then run make again." >&2; \
	  exit 1; }

python-check:
	@$(PYTHON) $(NEW_ENOUGH) 2>/dev/null || { \
	  echo "error: this project needs Python $(MIN_PYTHON) or newer, and '$(PYTHON)' is" \
	       "$$($(PYTHON) --version 2>/dev/null || echo 'not installed')." >&2; \
	  echo "Install Python $(MIN_PYTHON)+ (Debian/Ubuntu: sudo apt install python$(MIN_PYTHON) python$(MIN_PYTHON)-venv;" \
	       "macOS: brew install python@$(MIN_PYTHON); others: https://www.python.org/downloads/)," \
	       "then run: make PYTHON=python$(MIN_PYTHON) $(GOALS)" >&2; \
	  exit 1; }

# Then the project itself, editable: the `billing` command runs this checkout's code.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The policy pack's own virtualenv: `pulumi preview --policy-pack policies` needs it and,
# for a local pack, the Pulumi CLI does not build it.
policy-venv: $(POLICY_VENV)/.installed

$(POLICY_VENV)/.installed: policies/requirements.txt | python-check
	@{ $(POLICY_VENV)/bin/python $(NEW_ENOUGH) && $(POLICY_VENV)/bin/python -m pip --version; } \
	  >/dev/null 2>&1 || { rm -rf $(POLICY_VENV) && $(PYTHON) -m venv $(POLICY_VENV); }
	$(POLICY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r policies/requirements.txt
	touch $@

# The plan, then where to go from here: status names each step still to do with its command. Its
# advice (and every command's) says `billing ...`, which is on PATH once the virtualenv is active.
plan: venv
	$(VENV)/bin/billing plan --stack test
	@echo "Next: source $(VENV)/bin/activate (then \`billing\` is on PATH, as every command's advice writes it), and"
	@echo "billing status --stack test says where the stack is in going live, and the command for each step left."

test: lint typecheck pytest

lint: venv
	$(PY) -m ruff check infra tests benchmarks policies tools __main__.py
	$(VENV)/bin/lint-imports --no-cache

typecheck: venv
	$(PY) -m mypy --strict infra

# Four processes on two cores (pytest-xdist, requirements-dev.txt): ~55 s of the tests is waiting (deadlines,
# slow servers, children), which the extra workers fill. Measured on 2 cores in three alternating pairs
# (a shared machine: 46-57 s from run to run): -n 4 with the pure tests last (tests/conftest.py) took
# 1.5-5 s less than -n 3 in the old order in each pair, at a few seconds more CPU; -n 3 had been
# 66 s -> 50 s against -n 2. The timing tests passed with -n 4 beside a busy loop on one core.
# tests/repo/test_benchmark.py runs the benchmark at a small size, so `make bench` cannot rot.
# Bytecode is cached as Python does by default, even where PYTHONDONTWRITEBYTECODE is set (some
# sandboxes set it): otherwise each worker rewrites and compiles ~180 test modules on every run
# (~2.4 s of CPU each) and each `billing` the tests start compiles infra/ again. __pycache__ is ignored by git.
# Its temp files go to a RAM disk where there is one that allows executables (/dev/shm as tmpfs): a
# run leaves ~10,000 small files that the end of a later run deletes, ~10 s of rm on a disk mounted
# with `discard` under load, against a tenth of a second there.
pytest: venv
	PYTHONDONTWRITEBYTECODE= $(if $(TEST_TMP),PYTEST_DEBUG_TEMPROOT=$(TEST_TMP)) $(PY) -m pytest -n 4 --ignore=tests/engine

# The tests marked `pure` (no subprocess, server or Pulumi mock runtime), alone: a loop of seconds.
pytest-pure: venv
	$(PY) -m pytest -m pure --ignore=tests/engine

# The real engine (tools/engine.py): the Pulumi CLI, its Python language host and both
# providers, built from Go modules at pinned versions into ~/.cache/billing-engine/<key>,
# so a second run takes seconds. Needs Go; `make test` does not. A component the module
# proxy does not serve can be given prebuilt in $$BILLING_ENGINE_PLUGINS.
engine: python-check
	$(PYTHON) tools/engine.py build

# Tests that drive that engine against local Stripe and Vercel (tests/engine/); each one
# that needs a component the cache lacks is skipped with the reason (-rs shows it).
engine-test: venv policy-venv engine
	$(PY) -m pytest tests/engine -rs

# Then a real `pulumi preview` of 300 plans against the local servers, and the acts a person
# performs with `billing go-live` for a fresh live stack, when `make engine` has built
# everything they need (each says what is missing otherwise).
bench: venv policy-venv
	$(PY) benchmarks/plan_scaling.py
	$(PY) benchmarks/real_preview.py
	$(PY) benchmarks/go_live_acts.py

clean:
	rm -rf $(VENV) $(POLICY_VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis *.egg-info build
