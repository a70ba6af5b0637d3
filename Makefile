# `make diff` and `make test` each create .venv if it is missing and install the project first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# EXTRAS=dev,oracle also installs the optional oracle (PtyLab); CI sets it.
EXTRAS ?= dev
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: diff test bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

diff: $(STAMP)
	$(BIN)/harness diff --a dose_legacy --b sim_lines --stage all

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_harness_overhead.py

clean:
	rm -rf runs .hypothesis
