# How neural networks learn: build, test and work on the book.
#
#   make book    create .venv (first time), build the site into _build/html
#   make test    build the site, then run every test (nnlib, lessons, site, browser)
#   make test-kernels  the lessons' checked outputs again, on other BLAS and SIMD kernels (CI runs it)
#   make lab     JupyterLab on lessons/, with live explorers
#   make serve   serve _build/html on http://127.0.0.1:8000
#   make bench   time training (bench/train.py) and the live explorers (bench/widgets.py); the site's
#                explorer frames, sizes and page weights (bench/site.py; `bench/site.py --builds` times builds)
#   make strip   strip lesson outputs, except cells tagged keep_output (as the pre-commit hook does)
#   make clean   remove the build (keeps .venv; `make distclean` removes it too)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := book
.DELETE_ON_ERROR:

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000
BUILD  := _build

# Quiet pip (errors still show); no "new pip available" notices.
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Silence debugpy's frozen-modules notice in every kernel the build or the tests start.
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: venv book test test-kernels lab serve bench strip clean distclean

# The lessons train tiny networks: one BLAS thread is faster than two threads
# contending for two cores, and it keeps timings steady. (bench/ keeps the
# default, so the wide-network benchmark can use every core.)
book test lab: export OPENBLAS_NUM_THREADS = 1
book test lab: export OMP_NUM_THREADS = 1
book test lab: export MKL_NUM_THREADS = 1

venv: $(STAMP)

# The environment: rebuilt when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
	@test -x $(PY) || { echo "Creating $(VENV) ..."; python3 -m venv $(VENV); }
	@echo "Installing requirements.txt and nnlib (editable) into $(VENV) ..."
	@$(PY) -m pip install -q -r requirements.txt -e .
	@# Build matplotlib's font cache now, so that no lesson prints "building the font cache" to stderr.
	@MPLBACKEND=Agg $(PY) -c 'import matplotlib.pyplot'
	@touch $@

# The site. Notebooks run in build mode (static explorers); any warning fails the build.
book: $(STAMP)
	@started=$$($(PY) -c 'import time; print(time.time())'); \
	NNLIB_BUILD=1 $(VENV)/bin/jupyter-book build . -W -n --keep-going; \
	$(PY) book/_ext/nnbook.py report $(BUILD) --started "$$started"

# Every test in one pytest run: nnlib's units, the site and browser checks (tests/),
# and the lessons under nbval in lax mode, in live mode (no NNLIB_BUILD) with this venv's kernel.
test: book
	env -u NNLIB_BUILD $(PY) -m pytest tests --nbval-lax --nbval-current-env lessons

# The lessons' checked outputs once more, on other floating-point kernels: every combination of a generic
# OpenBLAS core and numpy without its AVX2/FMA loops (tests/other_kernels.py; tests/test_portable.py shows
# that each changes results here). A checked output that depends on the last bits of a kernel fails.
# .ci/run runs it.
test-kernels: $(STAMP)
	$(PY) tests/other_kernels.py

lab: $(STAMP)
	env -u NNLIB_BUILD $(VENV)/bin/jupyter lab --notebook-dir=lessons $$([ "$$(id -u)" = 0 ] && echo --allow-root)

serve:
	@test -f $(BUILD)/html/index.html || { echo "No site yet: run 'make book' first."; exit 1; }
	@echo "Serving $(BUILD)/html on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	python3 -m http.server --bind 127.0.0.1 --directory $(BUILD)/html $(PORT)

bench: $(STAMP)
	env -u NNLIB_BUILD $(PY) bench/train.py
	env -u NNLIB_BUILD OPENBLAS_NUM_THREADS=1 $(PY) bench/widgets.py   # as under make lab
	$(PY) bench/site.py   # the site's explorers: frames, bytes, page weights (run `make book` first)

# Strip lesson outputs as the pre-commit hook does (keeping cells tagged keep_output).
strip: $(STAMP)
	$(VENV)/bin/nbstripout --keep-count lessons/*.ipynb
	$(PY) book/_ext/nnbook.py clear-counts lessons/*.ipynb || true

clean:
	rm -rf $(BUILD) .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
