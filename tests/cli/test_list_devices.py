"""`harness list devices`: what TensorFlow sees on this machine, and what `--device auto` would pick."""
from __future__ import annotations

import re

from harness.device import gpu_available, installed_tensorflow


def test_list_devices_names_the_build_the_devices_and_the_auto_choice(harness_cli):
    listed = harness_cli("list", "devices", "--format", "markdown")
    assert listed.exit_code == 0, listed.output
    rows = dict(re.findall(r"^\| ([^|]+?) \| (.+?) \|$", listed.output, flags=re.M))
    assert rows["TensorFlow"].endswith(f"(installed: {installed_tensorflow()})")
    assert re.match(r"\d+\.\d+", rows["TensorFlow"])
    assert "/physical_device:CPU:0" in rows["CPU"]
    gpu = gpu_available()
    assert rows["--device auto"] == ("gpu" if gpu else "cpu")
    assert ("GPU" in rows) == gpu
    if "tensorflow-cpu" in installed_tensorflow():  # this CI machine: the lean CPU-only wheel
        assert rows["built with CUDA"].startswith("no")
