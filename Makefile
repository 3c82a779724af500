# Two entry points (see README): `make run` and `make test`. Everything else is a step.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv

# uv uses this interpreter and never downloads one; the lock file decides every package.
export UV_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
export UV_PYTHON_DOWNLOADS := never
# Compile .pyc at install time: where PYTHONDONTWRITEBYTECODE is set (as here), Python would
# otherwise recompile every imported module on every start (about 1 s for the SDKs alone).
export UV_COMPILE_BYTECODE := 1
# The database servers of this machine kind; tests fail (not skip) when these are unreachable.
export MAI_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export MAI_TEST_MYSQL_URL ?= mysql+pymysql://root@127.0.0.1:3306/test

.PHONY: run test setup system-packages services lint typecheck pytest i18n bench wheel-check

run: setup
	$(VENV)/bin/mai

test: setup services lint typecheck pytest

setup: system-packages $(VENV)/.synced

system-packages:
	@bash scripts/system-packages.sh

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock $(wildcard locales/*/LC_MESSAGES/*.po)
	$(UV) sync --locked
	$(VENV)/bin/python -m compileall -q src
	$(VENV)/bin/python scripts/compile_catalogs.py
	touch $@

services:
	@bash scripts/services.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy

pytest:
	$(VENV)/bin/pytest

# Extract every _() string, merge it into each language's catalog, compile the .mo files.
i18n: $(VENV)/.synced
	$(VENV)/bin/pybabel extract --no-location --sort-output -k _ -k ngettext:1,2 -o locales/mai.pot src
	for po in locales/*/LC_MESSAGES/mai.po; do $(VENV)/bin/pybabel update -w 120 --ignore-obsolete -D mai -i locales/mai.pot -d locales -l $$(basename $$(dirname $$(dirname $$po))) --no-fuzzy-matching; done
	$(VENV)/bin/python scripts/compile_catalogs.py

bench: setup
	$(VENV)/bin/python benchmarks/startup.py
	$(VENV)/bin/python benchmarks/providers.py
	$(VENV)/bin/python benchmarks/chat.py
	$(VENV)/bin/python benchmarks/usage.py
	$(VENV)/bin/python benchmarks/history.py
	$(VENV)/bin/python benchmarks/voice.py
	$(VENV)/bin/python benchmarks/embeddings.py
	$(VENV)/bin/python benchmarks/knowledge.py
	$(VENV)/bin/python benchmarks/retrieval_quality.py
