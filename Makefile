# Two commands on a fresh machine with Python >= 3.10 and make:
#   make demo   - create .venv, install mlready, run it on sample_project/
#   make test   - create .venv, install the dev extras, run the whole test suite (on every core)
# Both install the versions pinned in constraints.txt (`make constraints` re-pins them).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
INSTALL := $(PIP) install --constraint constraints.txt
SAMPLE := sample_project

.PHONY: demo test lint bench docs screenshots constraints clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "mlready needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(INSTALL) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(INSTALL) -e '.[dev]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/mlready --spec $(SAMPLE) spec check
	$(BIN)/mlready --spec $(SAMPLE) run
	@echo ""
	@echo "Run it again: unchanged steps are skipped. The tutorial (docs/tutorial.md) goes on"
	@echo "with the August batch, its outcomes and drift."
	@echo "Readiness report: $$(ls -d $(SAMPLE)/.mlready/runs/checklist-report/*/checklist.html | tail -n 1)"

# The suite runs on one worker per core (pytest-xdist; `make test TEST_WORKERS=0` runs it in one
# process), each test file on one worker (its module-scoped fixtures are made once), the files
# with slow tests first (tests/conftest.py orders them). pytest's exit code is make's: 5, no
# test ran, fails too.
TEST_WORKERS ?= auto
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run_all.py

docs: $(VENV)/.installed-dev
	$(BIN)/python -m mlready.spec.docs > /dev/null
	$(BIN)/python docs/update_reference.py

# The tutorial's screenshots, from a folder where the tutorial ran (see docs/screenshots.py):
#   make screenshots TUTORIAL=/tmp/tutorial/sample_project
TUTORIAL ?= sample_project
screenshots: $(VENV)/.installed-dev
	$(BIN)/python docs/screenshots.py $(TUTORIAL)

# Re-pin constraints.txt: the newest versions pyproject.toml allows, installed in a scratch venv
# (then `make test` proves them, and init --ci ships them with the next release).
PIN := .venv-pin
constraints:
	rm -rf $(PIN)
	$(PYTHON) -m venv $(PIN)
	$(PIN)/bin/python -m pip --disable-pip-version-check --quiet install -e '.[dev]'
	{ sed -n '/^#/p' constraints.txt; \
	  $(PIN)/bin/python -m pip freeze --exclude-editable | grep -viE '^mlready(-cli)?([=@ ]|$$)'; \
	} > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(PIN)

clean:
	rm -rf $(VENV) $(PIN) dist build .pytest_cache .ruff_cache .mypy_cache
