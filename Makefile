# Everything runs inside .venv, created from requirements.txt on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint release lab results bench clean venv

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

venv: $(STAMP)

## make demo: the main job on the embedded default data: the library's sanity
## report, then release the assignments, synthesise a class of 30 (complete,
## partial, empty, wrong and hostile submissions), grade it in parallel in the
## sandbox, and write the gradebook, CSV and feedback into demo-output/.
demo: $(STAMP)
	$(PY) -m cs231n_lib.sanity_report
	$(PY) -m autograder demo --out demo-output

## make test: every test, slow and browser ones included (what CI runs).
# One BLAS thread: many tests start worker processes and kernels of their own,
# and two cores shared by several multi-threaded BLAS pools thrash.
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -m "" --durations=25 tests

## make test-fast: the quick tests only (plain pytest does the same).
test-fast: $(STAMP)
	$(PY) -m pytest tests

## make results: run every experiment; write docs/results.md and docs/figures/.
results: $(STAMP)
	$(PY) tools/make_results.py

## make release: regenerate assignments/release/ from the source, reproducibly.
release: $(STAMP)
	$(PY) -m autograder release

## make lab: add the notebooks and one library with every gap stubbed to
## workspace/ (never overwriting your work) and open JupyterLab there with the
## course's settings.
lab: $(STAMP)
	$(PY) -m autograder lab --dest workspace

## make bench: the layer benchmark against PyTorch (needs `pip install torch==2.13.0`)
## and the per-notebook execution times. The OpenBLAS overrides some machines set
## for old builds slow a current numpy, so the benchmark runs without them.
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_layers.py
	$(PY) benchmarks/bench_notebooks.py
	$(PY) benchmarks/bench_grading.py
	$(PY) benchmarks/bench_trainer.py

lint: $(STAMP)
	$(PY) -m ruff check cs231n_lib autograder tests benchmarks tools

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
