# Neural Networks: Fundamentals — build, test and maintain the book.
#   make book              build the site into _build/html (runs the notebooks the cache lacks)
#   make book SOLUTIONS=0  the same, without the solutions part
#   make test              the whole test suite (unit tests, notebooks, sync, site, browser)
#   make page PAGES="chapters/ch05_backpropagation"   build only these pages (and the landing page)
#   make sync              regenerate setup cells, exercises/, the .ipynb pairs and the library reference
#   make check-sync        fail if anything generated is stale
#   make lint              ruff: lint and format check of lib/, tests/, tools/, bench/ and the notebooks
#   make check             lint and check-sync together (what to run before a commit)
#   make format            ruff-format and ruff-fix everything, the notebooks' code cells included, then sync
#   make bench             benchmarks (copy the printed results into BENCHMARKS.md)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SOLUTIONS ?= 1
JOBS ?= 2
# Quiet, deterministic, offline-friendly defaults for every command below.
export PYTHONHASHSEED := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export NNBOOK_PROGRESS ?= 0

.PHONY: book page test sync check-sync lint check format bench clean install

$(BIN)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	@touch $@

install: $(BIN)/.installed

ifeq ($(SOLUTIONS),0)
TOC := _build/toc-no-solutions.yml
else
TOC := _toc.yml
endif

# Notebooks run in kernels with one BLAS/OpenMP thread each, JOBS kernels at a time (the local
# Sphinx extension executes what the cache lacks before Sphinx reads the pages), so that two
# kernels on two cores do not oversubscribe them; the numbers do not depend on JOBS.
book page: export OMP_NUM_THREADS := 1
book page: export MKL_NUM_THREADS := 1
book page: export OPENBLAS_NUM_THREADS := 1
book page: export NNBOOK_EXECUTE_JOBS := $(JOBS)

# Executed outputs are cached in _build/.jupyter_cache/<digest of lib/ and the pins>: after a
# prose edit only that page is rebuilt, from its cached outputs; after a code edit that
# notebook runs again; after a library or pin change every notebook does.
book: $(BIN)/.installed
	$(BIN)/python tools/booktool.py check
	@# Without solutions, start from an empty site so no solution page survives from an earlier build.
	@if [ "$(SOLUTIONS)" = "0" ]; then rm -rf _build/html _build/.doctrees; \
		$(BIN)/python tools/booktool.py toc --no-solutions $(TOC); fi
	$(BIN)/jupyter-book build . --toc $(TOC) -W -n --keep-going
	@echo
	@echo "Open $(CURDIR)/_build/html/index.html"

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

# Tests run several kernels at once on 2 cores: one BLAS/OpenMP thread each avoids
# oversubscription (which slows PyTorch by 10x or more). Benchmarks do not set this.
test: export OMP_NUM_THREADS := 1
test: export MKL_NUM_THREADS := 1
test: export OPENBLAS_NUM_THREADS := 1
test: $(BIN)/.installed
	@# A lint error fails the tests (and CI) before anything slow runs.
	$(RUFF_CHECK)
	$(RUFF_FORMAT_CHECK)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbmake --nbmake-timeout=300 --durations=25 \
		tests chapters exercises solutions

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
