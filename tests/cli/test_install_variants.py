"""`make install` picks TensorFlow's CUDA build when nvidia-smi lists a GPU, else tensorflow-cpu (dry runs only)."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(tmp_path: Path, gpu: bool) -> list[str]:
    """The commands `make -n install` would run for a fresh venv, with or without a (fake) GPU."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    smi = fake / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-fake)'\n" if gpu else "#!/bin/sh\nexit 9\n")
    smi.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    # Under `make test` the parent make's MAKEFLAGS (with its EXTRAS=...) and MAKELEVEL would reach this
    # make: the dry run must see what a user's own `make install` sees.
    for inherited in ("TF_BUILD", "EXTRAS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(inherited, None)
    done = subprocess.run(["make", "--no-print-directory", "-n", "install", f"VENV={tmp_path / 'venv'}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_a_gpu_machine_installs_the_cuda_build_and_never_tensorflow_cpu(tmp_path):
    lines = dry_run(tmp_path, gpu=True)
    uninstall = next(i for i, line in enumerate(lines) if "pip uninstall" in line)
    install = next(i for i, line in enumerate(lines) if "pip install --quiet -r" in line)
    assert "tensorflow-cpu" in lines[uninstall] and uninstall < install
    assert any(line.endswith("pip install --quiet --no-deps -e .") for line in lines)
    assert lines[-1].endswith(".installed-gpu") and not any("'.[dev]'" in line for line in lines)
    requirements_line = next(line for line in lines if "import tomllib" in line)
    program = shlex.split(requirements_line.split(" > ")[0])[2]
    requirements = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout.split()
    assert "tensorflow[and-cuda]>=2.16" in requirements and "pytest>=8" in requirements
    assert not any(r.startswith("tensorflow-cpu") for r in requirements)


def test_without_a_gpu_the_install_stays_cpu_only(tmp_path):
    lines = dry_run(tmp_path, gpu=False)
    assert any(line.endswith("pip install --quiet -e '.[dev]'") for line in lines)
    assert not any("requirements-gpu" in line or "tomllib" in line for line in lines)
    assert lines[-1].endswith(".installed-cpu")
