# Two commands on a fresh machine with Python >= 3.10 and make:
#   make demo   - create .venv, install mlready, run it on sample_project/
#   make test   - create .venv, install the dev extras, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
SAMPLE := sample_project

.PHONY: demo test lint bench docs clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "mlready needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/mlready --spec $(SAMPLE) spec check
	$(BIN)/mlready --spec $(SAMPLE) validate-data
	$(BIN)/mlready --spec $(SAMPLE) validate-data --data $(SAMPLE)/data/batch_2026_07.csv
	$(BIN)/mlready --spec $(SAMPLE) validate-data --data $(SAMPLE)/data/batch_2026_08.csv \
		--quarantine $(SAMPLE)/.mlready/quarantine
	$(BIN)/mlready --spec $(SAMPLE) train
	$(BIN)/mlready --spec $(SAMPLE) register --promote production
	$(BIN)/mlready --spec $(SAMPLE) serve-batch
	$(BIN)/mlready --spec $(SAMPLE) serve-batch --input $(SAMPLE)/data/batch_2026_08.csv \
		--output $(SAMPLE)/predictions/churn_scores_2026_08.parquet
	$(BIN)/mlready --spec $(SAMPLE) check-drift \
		--outcomes $(SAMPLE)/data/batch_2026_08_outcomes.csv
	@echo "Scoring the July batch again: answered from the cache"
	$(BIN)/mlready --spec $(SAMPLE) serve-batch
	$(BIN)/mlready --spec $(SAMPLE) check-drift
	$(BIN)/mlready --spec $(SAMPLE) checklist-report
	@echo ""
	@echo "Validation reports: $$(ls -d $(SAMPLE)/.mlready/runs/validate-data/*/validation.html | tail -n 3 | tr '\n' ' ')"
	@echo "Training report:    $$(ls -d $(SAMPLE)/.mlready/runs/train/*/training.html | tail -n 1)"
	@echo "Predictions:        $(SAMPLE)/predictions/ (with rejected rows and batch profiles)"
	@echo "Drift reports:      $$(ls -d $(SAMPLE)/.mlready/runs/check-drift/*/drift.html | tail -n 2 | tr '\n' ' ')"
	@echo "Readiness report:   $$(ls -d $(SAMPLE)/.mlready/runs/checklist-report/*/checklist.html | tail -n 1)"

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run_all.py

docs: $(VENV)/.installed-dev
	$(BIN)/python -m mlready.spec.docs > /dev/null
	$(BIN)/python docs/update_reference.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache .mypy_cache
