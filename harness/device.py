"""TensorFlow device choice, thread counts and determinism, applied lazily on first use.

Importing TensorFlow costs seconds, so a stage that never trains never pays for it: the handle
imports and configures TF only when a stage asks for it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from harness.errors import DeviceError, UsageError

DEVICE_CHOICES = ("auto", "cpu", "gpu")


def check_device_choice(requested: str) -> str:
    if requested not in DEVICE_CHOICES:
        raise UsageError(f"unknown device {requested!r}; valid devices: {', '.join(DEVICE_CHOICES)}")
    return requested


@dataclass
class DeviceHandle:
    """The requested device and thread counts; `tensorflow()` returns TF configured accordingly."""

    requested: str = "auto"
    intra_op_threads: int = 2
    inter_op_threads: int = 2
    resolved: str | None = None
    gpu_names: list[str] = field(default_factory=list)

    def tensorflow(self) -> Any:
        """Import TensorFlow once, fix threads, enable op determinism and pick CPU or GPU."""
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        if self.resolved is None:
            gpus = tf.config.list_physical_devices("GPU")
            if self.requested == "gpu" and not gpus:
                raise DeviceError("--device gpu was requested but TensorFlow sees no GPU on this machine")
            if self.requested == "cpu" and gpus:
                tf.config.set_visible_devices([], "GPU")
                gpus = []
            tf.config.threading.set_intra_op_parallelism_threads(self.intra_op_threads)
            tf.config.threading.set_inter_op_parallelism_threads(self.inter_op_threads)
            tf.config.experimental.enable_op_determinism()
            self.gpu_names = [gpu.name for gpu in gpus]
            self.resolved = "gpu" if gpus else "cpu"
        return tf

    def seed_tensorflow(self, seed: int) -> None:
        """Seed Python, NumPy and TF globally (keras.utils.set_random_seed), as spec 9.2 rule 5 asks."""
        self.tensorflow()
        import keras

        keras.utils.set_random_seed(int(seed))

    def record(self) -> dict[str, Any]:
        """What to write into artifacts: requested and resolved device, GPUs and thread counts."""
        return {
            "requested": self.requested,
            "resolved": self.resolved or "not initialised (no TensorFlow stage ran)",
            "gpus": list(self.gpu_names),
            "intra_op_threads": self.intra_op_threads,
            "inter_op_threads": self.inter_op_threads,
        }


def gpu_available() -> bool:
    """Whether TensorFlow sees a GPU; imports TF, so only called for `--device gpu`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu")
"""The wheels that provide the `tensorflow` module: the CUDA-capable build, and the CPU-only one the default install uses."""


def installed_tensorflow() -> str:
    """Which TensorFlow wheel(s) pip installed, e.g. `tensorflow-cpu 2.21.0`; read from metadata, without importing TF."""
    from importlib import metadata

    found = []
    for name in TENSORFLOW_DISTRIBUTIONS:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return " + ".join(found) or "none"


def describe_devices() -> list[tuple[str, str]]:
    """What TensorFlow sees, as (what, value) rows: version, wheel, CUDA build, each physical device, and
    the device `--device auto` would pick. Imports TensorFlow (seconds), so only `harness list devices` calls it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    build = tf.sysconfig.get_build_info()
    cuda = tf.test.is_built_with_cuda()
    rows = [("TensorFlow", f"{tf.__version__} (installed: {installed_tensorflow()})"),
            ("built with CUDA", f"yes (CUDA {build.get('cuda_version', '?')}, cuDNN {build.get('cudnn_version', '?')})"
             if cuda else "no (install the gpu extra for a GPU: see the README)")]
    devices = tf.config.list_physical_devices()
    for device in devices:
        details = tf.config.experimental.get_device_details(device) if device.device_type == "GPU" else {}
        capability = details.get("compute_capability")
        name = details.get("device_name", "")
        if capability:
            name += f" (compute capability {'.'.join(map(str, capability))})"
        rows.append((device.device_type, f"{device.name}" + (f": {name}" if name else "")))
    gpus = [d for d in devices if d.device_type == "GPU"]
    rows.append(("--device auto", "gpu" if gpus else "cpu"))
    return rows
