# `make diff` and `make test` each create .venv if it is missing and install the project first.
# With an NVIDIA GPU (`nvidia-smi -L` lists one) they install TensorFlow's CUDA build instead of
# tensorflow-cpu; `make TF_BUILD=cpu ...` or `make TF_BUILD=gpu ...` overrides the detection.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TF_BUILD ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
STAMP := $(VENV)/.installed-$(TF_BUILD)
# EXTRAS=dev,oracle also installs the optional oracle (PtyLab); CI sets it.
EXTRAS ?= dev
export TF_CPP_MIN_LOG_LEVEL ?= 2

# The GPU requirements: the project's dependencies with tensorflow-cpu replaced by the `gpu` extra
# (tensorflow[and-cuda]), plus the EXTRAS (`dev` by default). `pip install '.[dev,gpu]'` alone would
# install both TensorFlow wheels, which write the same `tensorflow/` package: whichever came last
# would win, and removing either later breaks the other. So the GPU install never installs
# tensorflow-cpu at all.
GPU_REQUIREMENTS := import tomllib; project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	extras = project["optional-dependencies"]; \
	print("\n".join([d for d in project["dependencies"] if not d.startswith("tensorflow-cpu")] \
	+ [d for name in "$(EXTRAS)".split(",") for d in extras[name]] + extras["gpu"]))

.PHONY: diff test bench install clean

install: $(STAMP)

$(VENV)/.installed-cpu: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if [ -e $(VENV)/.installed-gpu ]; then $(BIN)/python -m pip uninstall --quiet --yes tensorflow; fi
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	rm -f $(VENV)/.installed-gpu
	touch $@

$(VENV)/.installed-gpu: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip uninstall --quiet --yes tensorflow-cpu
	$(BIN)/python -c '$(GPU_REQUIREMENTS)' > $(VENV)/requirements-gpu.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements-gpu.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-cpu
	touch $@

diff: $(STAMP)
	$(BIN)/harness diff --a dose_legacy --b sim_lines --stage all

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_harness_overhead.py

clean:
	rm -rf runs .hypothesis
