# Neural Networks: Fundamentals — build, test and maintain the book.
#   make lab               JupyterLab in the book's environment, opened at the landing page
#   make book              build the site into _build/html (runs the notebooks the cache lacks)
#   make book SOLUTIONS=0  the same, without the solutions part
#   make pdf               the whole book as one PDF, _build/pdf/book.pdf (SOLUTIONS=0 works too)
#   make test              the whole test suite (unit tests, notebooks, sync, site, browser)
#   make page PAGES="chapters/ch05_backpropagation"   build only these pages (and the landing page)
#   make sync              regenerate setup cells, exercises/, the .ipynb pairs and the library reference
#   make check-sync        fail if anything generated is stale
#   make lint              ruff: lint and format check of lib/, tests/, tools/, bench/ and the notebooks
#   make check             lint and check-sync together (what to run before a commit)
#   make format            ruff-format and ruff-fix everything, the notebooks' code cells included, then sync
#   make bench             benchmarks (copy the printed results into BENCHMARKS.md)
#   make clean             remove the build outputs (_build); keeps .venv
#   make distclean         remove .venv too (the next command installs again)
#
# Every command runs in .venv, which the first one creates with Python 3.11 and fills from
# requirements.txt (a few minutes, once). The pins are tested on 3.11 only; PyTorch 2.13 on
# 3.12 is untested here. To try another version anyway: make book PYTHON=python3.12 PYTHON_VERSION=3.12

PYTHON_VERSION := 3.11
# python3.11 when it is on the PATH, else python3 (its version is checked before .venv is made)
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell command -v python$(PYTHON_VERSION) 2>/dev/null || echo python3)
endif
VENV ?= .venv
BIN := $(VENV)/bin
SOLUTIONS ?= 1
JOBS ?= 2
# Quiet, deterministic, offline-friendly defaults for every command below.
export PYTHONHASHSEED := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: book page pdf lab test sync check-sync lint check format bench clean distclean install FORCE

# The Python .venv was made with (its pyvenv.cfg says); a .venv of another version is rebuilt.
VENV_PYTHON := $(shell sed -n -E 's/^version(_info)? *= *([0-9]+\.[0-9]+).*/\2/p' $(VENV)/pyvenv.cfg 2>/dev/null)
ifneq ($(VENV_PYTHON),)
ifneq ($(VENV_PYTHON),$(PYTHON_VERSION))
$(BIN)/.installed: FORCE
endif
endif

# 1. Python: a .venv of the wrong version is removed; a new one needs PYTHON to be 3.11.
# 2. The pinned environment (requirements.txt), announced, since the first time takes minutes.
# 3. The kernelspec of .venv starts kernels with CurveZMQ keys (tools/kernel/nnbook_kernel.py):
#    no "Kernel is running over TCP without encryption" warning from every notebook run.
# 4. JupyterLab in .venv opens the .md pages as notebooks (Jupytext as their default viewer)
#    and starts their kernel without asking: binder/jupyterlab-settings.json, as on Binder.
$(BIN)/.installed: requirements.txt pyproject.toml tools/kernel/pyproject.toml binder/jupyterlab-settings.json
	@if [ -n "$(VENV_PYTHON)" ] && [ "$(VENV_PYTHON)" != "$(PYTHON_VERSION)" ]; then \
		echo "$(VENV) was made with Python $(VENV_PYTHON), but the book needs $(PYTHON_VERSION): removing it to start again."; \
		rm -rf $(VENV); fi
	@if [ ! -x $(BIN)/python ]; then \
		found=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "not found"); \
		if [ "$$found" != "$(PYTHON_VERSION)" ]; then \
			echo "The book needs Python $(PYTHON_VERSION), but $(PYTHON) is: $$found." >&2; \
			echo "Install Python $(PYTHON_VERSION) (python.org, your package manager, pyenv, or: uv python install $(PYTHON_VERSION))," >&2; \
			echo "then run: make $(or $(MAKECMDGOALS),install) PYTHON=/path/to/python$(PYTHON_VERSION)" >&2; \
			exit 1; fi; \
		echo "Creating $(VENV) with $(PYTHON) (Python $$found)."; \
		$(PYTHON) -m venv $(VENV) && touch $(VENV)/.new; fi
	@if [ -f $(VENV)/.new ]; then \
		echo "Installing the book's environment into $(VENV) (requirements.txt: PyTorch, SciPy, Jupyter Book,"; \
		echo "JupyterLab...): about 2 GB, most of it PyTorch. The first time this takes a few minutes (about 2"; \
		echo "on a fast connection, 10 or more on a slow one) and prints nothing until done; later commands reuse it."; \
	else echo "requirements.txt or pyproject.toml changed: updating $(VENV)."; fi
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e tools/kernel
	@$(BIN)/python -m nnbook_kernel
	@mkdir -p $(VENV)/etc/jupyter/labconfig
	@cp binder/jupyterlab-settings.json $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json
	@rm -f $(VENV)/.new
	@touch $@

install: $(BIN)/.installed

FORCE:

ifeq ($(SOLUTIONS),0)
TOC := _build/toc-no-solutions.yml
else
TOC := _toc.yml
endif

# Builds and tests run the notebooks quietly (no progress bars) and on the CPU: NNBOOK_DEVICE=cpu
# makes the PyTorch code's device "auto" the CPU even where a GPU exists, so the printed numbers
# are the same on every machine (`make lab` leaves both alone: a reader's GPU is welcome there).
# Notebooks run in kernels with one BLAS/OpenMP thread each, JOBS kernels at a time (the local
# Sphinx extension executes what the cache lacks before Sphinx reads the pages; nbmake runs one
# per pytest worker), so that two kernels on two cores do not oversubscribe them (which slows
# PyTorch by 10x or more); the numbers do not depend on JOBS. Benchmarks do not set this.
book page pdf test: export NNBOOK_PROGRESS ?= 0
book page pdf test: export NNBOOK_DEVICE := cpu
book page pdf test: export OMP_NUM_THREADS := 1
book page pdf test: export MKL_NUM_THREADS := 1
book page pdf test: export OPENBLAS_NUM_THREADS := 1
book page pdf: export NNBOOK_EXECUTE_JOBS := $(JOBS)

# Executed outputs are cached in _build/.jupyter_cache/<digest of lib/ and the pins>: after a
# prose edit only that page is rebuilt, from its cached outputs; after a code edit that
# notebook runs again; after a library or pin change every notebook does.
book: $(BIN)/.installed
	$(BIN)/python tools/booktool.py check
	@# Without solutions, start from an empty site so no solution page survives from an earlier build.
	@if [ "$(SOLUTIONS)" = "0" ]; then rm -rf _build/html _build/.doctrees; \
		$(BIN)/python tools/booktool.py toc --no-solutions $(TOC); fi
	$(BIN)/jupyter-book build . --toc $(TOC) -W -n --keep-going
	@$(BIN)/python tools/pdf.py publish --site _build/html
	@echo
	@echo "Open $(CURDIR)/_build/html/index.html"

# The whole book as one PDF, _build/pdf/book.pdf (tools/pdf.py): Jupyter Book's single-page HTML
# build, from the execution cache `make book` fills (a notebook it lacks runs first), printed
# by headless Chromium once MathJax is done. SOLUTIONS=0 leaves the solutions out. The PDF is
# then copied into the site (_build/html/book.pdf, where the sidebar's link points) when the
# site holds the same pages; `make book` copies an existing PDF the same way.
pdf: $(BIN)/.installed
	$(BIN)/python tools/booktool.py check
	@if [ "$(SOLUTIONS)" = "0" ]; then $(BIN)/python tools/booktool.py toc --no-solutions $(TOC); fi
	$(BIN)/python tools/pdf.py build --toc $(TOC) --output _build/pdf/book.pdf
	@$(BIN)/python tools/pdf.py publish --site _build/html

# JupyterLab in the book's environment, opened at the landing page; the chapters' .md sources
# open as notebooks (Run > Run All Cells runs one). More options: make lab LAB_ARGS="--port 8890"
lab: $(BIN)/.installed
	$(BIN)/jupyter lab intro.md $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# One or a few pages only, for authors: the landing page plus PAGES, executed, with -W -n.
# A reference to a page left out is a warning (and fails): list that page too.
PAGE_NAME = $(subst /,_,$(firstword $(PAGES)))
page: $(BIN)/.installed
	@test -n "$(PAGES)" || { echo 'usage: make page PAGES="chapters/ch05_backpropagation [more pages]"'; exit 2; }
	$(BIN)/python tools/booktool.py toc _build/toc-$(PAGE_NAME).yml --only $(PAGES)
	@mkdir -p _build/page-$(PAGE_NAME)
	$(BIN)/jupyter-book build . --toc _build/toc-$(PAGE_NAME).yml --path-output _build/page-$(PAGE_NAME) -n --keep-going \
		2>&1 | tee _build/page-$(PAGE_NAME)/build.log
	@# The landing page and the library reference link to every page; only their links to pages
	@# left out may warn. (Kernel log lines such as "[IPKernelApp] WARNING" are no Sphinx warnings.)
	@! grep "WARNING:" _build/page-$(PAGE_NAME)/build.log \
		| grep -v -i -E "(intro|reference/library)\.md:.*unknown (source )?document"
	@echo "Open $(CURDIR)/_build/page-$(PAGE_NAME)/_build/html/$(firstword $(PAGES)).html"

test: $(BIN)/.installed
	@# A lint error fails the tests (and CI) before anything slow runs.
	$(RUFF_CHECK)
	$(RUFF_FORMAT_CHECK)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbmake --nbmake-timeout=300 --durations=25 \
		-m "not colab" tests chapters exercises solutions
	@# The simulated Colab (tests/colab_sim.py) last: it compares box numbers with the site built above.
	$(BIN)/python -m pytest -m colab --durations=10 tests/test_colab.py

# Lint and format: ruff, configured in pyproject.toml. The notebooks are checked through their
# paired .ipynb (ruff reads notebooks, not MyST Markdown); `make format` formats the code cells
# of the .md sources themselves (tools/booktool.py format) and then writes the pairs again.
RUFF_PATHS := lib tests tools bench
NOTEBOOK_PATHS := chapters exercises solutions
RUFF_CHECK = $(BIN)/ruff check --output-format=concise $(RUFF_PATHS) $(NOTEBOOK_PATHS)
RUFF_FORMAT_CHECK = $(BIN)/ruff format --check $(RUFF_PATHS) $(NOTEBOOK_PATHS)

lint: $(BIN)/.installed
	@status=0; $(RUFF_CHECK) || status=1; $(RUFF_FORMAT_CHECK) || status=1; exit $$status

# Both checks run and both report; either failing fails `make check`.
check: $(BIN)/.installed
	@status=0; $(MAKE) --no-print-directory lint || status=1; \
		$(BIN)/python tools/booktool.py check || status=1; exit $$status

format: $(BIN)/.installed
	$(BIN)/python tools/booktool.py format
	$(BIN)/ruff check --fix --silent --exit-zero $(RUFF_PATHS)
	$(BIN)/ruff format $(RUFF_PATHS)
	$(BIN)/python tools/booktool.py sync

sync: $(BIN)/.installed
	$(BIN)/python tools/booktool.py sync

check-sync: $(BIN)/.installed
	$(BIN)/python tools/booktool.py check

# Benchmarks want an idle machine and the CPU's own BLAS kernels: OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE (set on some machines to work around old OpenBLAS bugs) are unset here only.
bench: $(BIN)/.installed
	@for b in bench/bench_*.py; do echo "== $$b"; env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build .pytest_cache

distclean: clean
	rm -rf $(VENV)
