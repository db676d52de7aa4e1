# One rule per stage, each with its file dependencies. `make help` lists them.
# Variables can be overridden: make report RESULTS=out SEED=2 CUSTOMERS=20000
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

RAW := data/raw
SIMULATED := data/simulated
RESULTS := results
# the Parquet model and panel belong to one run: inside its results folder
PROCESSED := $(RESULTS)/processed
REPORTS := reports
SEED := 1
CUSTOMERS := 63882
JOBS := 2

RAW_FILES := $(RAW)/account_segments.csv $(RAW)/customer_metadata.csv $(RAW)/integrations.csv
HAVE_RAW := $(and $(wildcard $(RAW)/account_segments.csv),$(wildcard $(RAW)/customer_metadata.csv),$(wildcard $(RAW)/integrations.csv))
INPUT := $(if $(HAVE_RAW),$(RAW),$(SIMULATED))
CODE := $(shell find analysis causal -name '*.py' 2>/dev/null)
SIM_CODE := $(wildcard analysis/simulator*.py analysis/simulator/*.py)
RUN := $(PY) -m causal run --data $(INPUT) --results $(RESULTS) --processed $(PROCESSED) --seed $(SEED) --jobs $(JOBS)

.PHONY: help setup setup-ray data model panel estimate refutations segments refute report lint test test-fast mutation mutation-changed bench clean
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "  input data: $(INPUT)"

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2> >(grep -v "^WARNING: Location" >&2)
	$(PY) -m pip install --quiet -r requirements.lock 2> >(grep -v "^WARNING: Location" >&2)
	$(PY) -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $@

setup: $(STAMP) ## create .venv and install the pinned dependencies

$(VENV)/.installed-ray: $(STAMP) requirements-ray.lock
	$(PY) -m pip install --quiet -r requirements-ray.lock 2> >(grep -v "^WARNING: Location" >&2)
	touch $@

setup-ray: $(VENV)/.installed-ray ## add the optional Ray extra (--ray ADDRESS), pinned in requirements-ray.lock

$(SIMULATED)/customer_metadata.csv: $(STAMP) $(SIM_CODE)
	$(PY) -m causal simulate --out $(SIMULATED) --customers $(CUSTOMERS) --seed $(SEED)

data: $(INPUT)/customer_metadata.csv ## the input data: data/raw when it has the three CSVs, else simulate

$(RESULTS)/data_quality.json: $(INPUT)/customer_metadata.csv $(CODE)
	$(RUN) --stages data

model: $(RESULTS)/data_quality.json ## load, validate, reconcile, dimensional model, ledger, trends

$(PROCESSED)/panel.parquet: $(RESULTS)/data_quality.json
	$(RUN) --stages panel

panel: $(PROCESSED)/panel.parquet ## customer-month panel: treatment, outcomes, covariates

$(RESULTS)/effects.csv: $(PROCESSED)/panel.parquet
	$(RUN) --stages estimate

estimate: $(RESULTS)/effects.csv ## naive, PSM and DML estimates, balance, trimming

$(RESULTS)/refutations.csv: $(RESULTS)/effects.csv
	$(RUN) --stages refute

refutations: $(RESULTS)/refutations.csv ## the refutation suite of the primary estimates

$(RESULTS)/effects_by_segment.csv: $(PROCESSED)/panel.parquet
	$(RUN) --stages segments

segments: $(RESULTS)/effects_by_segment.csv ## effects by segment, targeting, dollars

refute: $(RESULTS)/refutations.csv ## a reviewer's re-run of the refutation suite from the saved results
	$(PY) -m causal refute --results $(RESULTS) --seed $(SEED)

$(REPORTS)/memo.html: $(RESULTS)/refutations.csv $(RESULTS)/effects_by_segment.csv report.qmd _quarto.yml
	$(PY) -m causal report --results $(RESULTS) --out $(REPORTS)

report: $(REPORTS)/memo.html ## everything: set-up, data, analysis, memo (HTML and PDF)
	@echo "memo (HTML): $(abspath $(REPORTS)/memo.html)"
	@echo "memo (PDF):  $(abspath $(REPORTS)/memo.pdf)"

lint: $(STAMP) ## the layer contracts: memo -> causal -> analysis, no cycles (import-linter)
	$(VENV)/bin/lint-imports

test: lint ## the layer contracts, then the whole test suite, slow tests included (what CI runs)
	$(PY) -m pytest

test-fast: lint ## the layer contracts and the quick tests only
	$(PY) -m pytest -m "not slow"

# mutmut over the modules of [tool.mutmut] only_mutate in pyproject.toml (or only MUTATE="a.py b.py"),
# one worker; fails on a surviving mutant that tests/mutation_equivalent.txt does not explain (docs/testing.md)
MUTATE :=
MUTANT_GLOBS := $(foreach p,$(MUTATE),'$(subst /,.,$(p:.py=)).*')

mutation: $(STAMP) ## mutmut on inference, parsers, treatment, outcomes (slow); MUTATE="a.py" for some
	$(if $(MUTATE),$(PY) -m tests.mutation_check --known $(MUTATE))
	rm -rf mutants
	INTEGRATIONS_SHARED_DIR=$${INTEGRATIONS_SHARED_DIR:-$(abspath ..)/shared} $(VENV)/bin/mutmut run --max-children 1 $(MUTANT_GLOBS)
	$(PY) -m tests.mutation_check $(MUTATE)

# CI's mutation step: only the functions of the mutated modules that changed since BASE (tests/mutation_changed.py),
# two workers; fails like `make mutation` on an unexplained survivor among them
BASE := HEAD~1

mutation-changed: $(STAMP) ## mutmut on the functions of the mutated modules changed since BASE (default HEAD~1)
	@set -f; globs="$$($(PY) -m tests.mutation_changed --base $(BASE))"; \
	if [ -z "$$globs" ]; then echo "mutation: no function of a mutated module changed since $(BASE)"; exit 0; fi; \
	echo "mutation testing the functions changed since $(BASE):"; echo "$$globs"; \
	rm -rf mutants; \
	INTEGRATIONS_SHARED_DIR=$${INTEGRATIONS_SHARED_DIR:-$(abspath ..)/shared} $(VENV)/bin/mutmut run --max-children 2 $$globs \
	&& $(PY) -m tests.mutation_check --only $$globs --

bench: $(STAMP) ## benchmarks at real and ten-times scale; figures go to docs/benchmarks.md
	$(PY) -m benchmarks.run

clean: ## remove generated data, results and memos (keeps data/raw and .venv)
	rm -rf $(SIMULATED) $(PROCESSED) $(RESULTS) $(REPORTS) data/processed
