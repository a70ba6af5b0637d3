"""Model configuration and construction of the PINN of spec 3.10.1 (Keras 3).

`ModelConfig` and the helpers that only read it are importable without TensorFlow; `build_model` imports
Keras on first use, so a stage that never builds a model never pays for the framework.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import keras

    from harness.device import DeviceHandle

# The probe.big branch of the decoder head reads the last 4 decoder channels (spec 3.10.1 step 4).
BIG_BRANCH_CHANNELS = 4


class ModelConfigError(UsageError):
    """A model configuration the spec does not allow (e.g. an odd padded_size, knob L4)."""


@dataclass(frozen=True)
class ModelConfig:
    """Everything that shapes the model of spec 3.10.1; one field per knob or derived size.

    decoder_widths: [128, 64] (sim_lines, legacy tip) or [256, 128] (legacy study era; knobs L8, S16).
    amp_head_channels: C (sim_lines) or 1 (legacy; knob S17). border_mask_on_big: the (1 - central mask)
    factor on the probe.big branch (False in the legacy study era). combine: polar | rect (S2).
    reassembly_batching: per_sample | collapse (S5). reassembly_norm_eps: 0.001 | 0 (S15).
    log_scale_init: L of the intensity scaler (spec 3.9), a constant.
    """

    N: int = 64
    gridsize: int = 1
    n_filters_scale: int = 2
    decoder_widths: tuple[int, ...] = (128, 64)
    amp_head_channels: int | None = None
    probe_big: bool = False
    probe_mask: bool = True
    pad_object: bool = True
    padded_size: int = 74
    combine: str = "polar"
    reassembly_batching: str = "per_sample"
    reassembly_norm_eps: float = 0.001
    border_mask_on_big: bool = True
    log_scale_init: float = math.log(988.2117919921875)  # ln of the closed form sqrt(1e9)/32 (spec 1.7)
    amp_activation: str = "sigmoid"

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoder_widths", tuple(int(w) for w in self.decoder_widths))
        if self.amp_head_channels is None:
            object.__setattr__(self, "amp_head_channels", self.channels)
        validate_config(self)

    @property
    def channels(self) -> int:
        """C = gridsize^2 patches per group (spec 1.1)."""
        return self.gridsize * self.gridsize


def validate_config(config: ModelConfig) -> None:
    """Raise ModelConfigError for knob values and sizes the spec rules out (3.10.1).

    The padded size is checked separately (`check_padded_size`) when the model is built, so that an odd
    padded_size (knob L4) fails at `train`, as spec 5.1 requires, and not when the configuration is made.
    """
    n = config.N
    if n % 8 != 0 or n < 16:
        raise ModelConfigError(f"N must be a multiple of 8 (three 2x2 poolings), got {n}")
    if config.gridsize < 1:
        raise ModelConfigError(f"gridsize must be >= 1, got {config.gridsize}")
    if not config.pad_object:
        raise ModelConfigError("only pad_object=True is specified (spec 3.10.1 step 4)")
    if config.amp_head_channels not in (1, config.channels):
        raise ModelConfigError(f"amp_head_channels must be 1 or C = {config.channels}, got {config.amp_head_channels}")
    if len(config.decoder_widths) != 2:
        raise ModelConfigError(f"decoder_widths must have two entries (8 -> 16 -> 32), got {config.decoder_widths}")
    if config.decoder_widths[-1] <= BIG_BRANCH_CHANNELS:
        raise ModelConfigError(f"the last decoder width must exceed {BIG_BRANCH_CHANNELS}")
    if config.combine not in ("polar", "rect"):
        raise ModelConfigError(f"combine must be 'polar' or 'rect', got {config.combine!r}")
    if config.reassembly_batching not in ("per_sample", "collapse"):
        raise ModelConfigError(
            f"reassembly_batching must be 'per_sample' or 'collapse', got {config.reassembly_batching!r}"
        )
    if not config.reassembly_norm_eps >= 0:
        raise ModelConfigError(f"reassembly_norm_eps must be >= 0, got {config.reassembly_norm_eps}")
    if not math.isfinite(config.log_scale_init):
        raise ModelConfigError(f"log_scale_init must be finite, got {config.log_scale_init}")


def check_padded_size(config: ModelConfig) -> None:
    """Raise ModelConfigError unless N <= padded_size and padded_size - N is even (spec 5.1 knob L4).

    With max_position_jitter 3 the padded size is odd; the original pads (P - N)//2 on each side and fails
    with a reshape error. The plugin raises this typed error instead and never pads asymmetrically.
    """
    n, padded = config.N, config.padded_size
    if padded < n:
        raise ModelConfigError(f"padded_size {padded} is smaller than N = {n}")
    if (padded - n) % 2 != 0:
        raise ModelConfigError(
            f"padded_size {padded} - N = {padded - n} is odd: the in-model reassembly pads (P - N)/2 on each side "
            "and asymmetric padding is not allowed (spec 5.1 L4)"
        )


def intensity_scale_of(log_scale: float) -> float:
    """exp(L) evaluated in float32, the bundle's intensity_scale (spec 1.7, 3.10.4)."""
    return float(np.exp(np.float32(log_scale)))


@dataclass(frozen=True)
class PinnModels:
    """The training model [trimmed_obj, pred_amp_scaled, pred_intensity] and `diffraction_to_obj`.

    Both map [input (B,N,N,C), input_positions (B,1,2,C)] and share every layer and weight (spec 3.10.1).
    """

    training: "keras.Model"
    diffraction_to_obj: "keras.Model"
    config: ModelConfig


def seed_framework(seed: int, device: "DeviceHandle | None" = None) -> None:
    """Seed Python, NumPy and TF globally and enable op determinism (spec 9.2 rule 5).

    With a DeviceHandle this also fixes the thread counts and device; with a plain seed only determinism
    and the global seed are set (threads stay as the process configured them).
    """
    if device is not None:
        device.seed_tensorflow(int(seed))
        return
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(int(seed))


def initializer_seeds(seed: int) -> random.Random:
    """The source of the kernel initialisers' seeds: a private generator seeded with the build seed.

    Keras draws each default initialiser's seed as `random.randint(1, 10**9)` from Python's global
    generator, which `keras.utils.set_random_seed` seeds; drawing them the same way from a private one
    gives the same initial weights, and makes them a function of the seed alone: another thread of the
    process (a Dask worker's event loop) drew from the global one, and the same run trained to other
    weights there.
    """
    return random.Random(int(seed))


def _conv(filters: int, seeds: random.Random, name: str, activation: str | None = "relu") -> Any:
    import keras

    initializer = keras.initializers.GlorotUniform(seed=seeds.randint(1, int(1e9)))
    return keras.layers.Conv2D(filters, 3, padding="same", activation=activation, name=name,
                               kernel_initializer=initializer)


def _encoder(x: Any, config: ModelConfig, seeds: random.Random) -> Any:
    """Three blocks of (Conv 3x3 + ReLU) x 2 then MaxPool 2x2, filters n_filters_scale*[32, 64, 128] (step 2)."""
    import keras

    for level, base in enumerate((32, 64, 128)):
        filters = config.n_filters_scale * base
        x = _conv(filters, seeds, f"enc{level}_conv_a")(x)
        x = _conv(filters, seeds, f"enc{level}_conv_b")(x)
        x = keras.layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    return x


def _up_block(x: Any, filters: int, prefix: str, seeds: random.Random) -> Any:
    """(Conv 3x3 + ReLU) x 2 then nearest UpSampling 2x (spec 3.10.1 step 3)."""
    import keras

    x = _conv(filters, seeds, f"{prefix}_conv_a")(x)
    x = _conv(filters, seeds, f"{prefix}_conv_b")(x)
    return keras.layers.UpSampling2D(2, name=f"{prefix}_up")(x)


def _decoder(x: Any, config: ModelConfig, out_channels: int, activation: Any, prefix: str,
             seeds: random.Random) -> Any:
    """Decoder body (step 3) and head (step 4): x1 on all but the last 4 channels, x2 if probe.big."""
    import keras

    from pipelines.physics.model import layers

    for index, width in enumerate(config.decoder_widths):
        x = _up_block(x, width, f"{prefix}_dec{index}", seeds)
    x1 = _conv(out_channels, seeds, f"{prefix}_head", activation=None)(x[..., :-BIG_BRANCH_CHANNELS])
    x1 = activation(x1)
    x1 = keras.layers.ZeroPadding2D(config.N // 4, name=f"{prefix}_padded")(x1)
    if not config.probe_big:
        return x1
    x2 = _up_block(x[..., -BIG_BRANCH_CHANNELS:], config.n_filters_scale * 32, f"{prefix}_big", seeds)
    x2 = _conv(out_channels, seeds, f"{prefix}_big_head", activation="swish")(x2)
    if config.border_mask_on_big:
        x2 = layers.BorderMask(name=f"{prefix}_big_border")(x2)
    return keras.layers.Add(name=f"{prefix}_out")([x1, x2])


def build_model(
    config: ModelConfig,
    probe: np.ndarray,
    seed: int | None = None,
    device: "DeviceHandle | None" = None,
    init_seed: int | None = None,
) -> PinnModels:
    """Build the PINN of spec 3.10.1 and its `diffraction_to_obj` companion (shared weights).

    `probe` is P_model, (N, N) or (1, N, N, 1) complex; it becomes a non-trainable weight. With `seed`,
    the framework is seeded first (spec 9.2 rule 5); pass None when the caller has already seeded. Every
    kernel's Glorot-uniform initialiser is seeded explicitly, in construction order, from `init_seed`
    (default `seed`, else 0: a model whose weights are restored next; see `initializer_seeds`). Raises
    ModelConfigError for an odd padded_size before anything is imported or seeded.
    """
    check_padded_size(config)
    if seed is not None:
        seed_framework(seed, device)
    elif device is not None:
        device.tensorflow()
    import keras

    from pipelines.physics.model import layers

    n, c = config.N, config.channels
    probe = np.asarray(probe)
    if probe.size != n * n:
        raise ModelConfigError(f"probe must have N*N = {n * n} elements, got shape {probe.shape}")
    probe = probe.reshape(n, n)

    diffraction = keras.Input((n, n, c), name="input", dtype="float32")
    positions = keras.Input((1, 2, c), name="input_positions", dtype="float32")
    log_scale = layers.LogScale(float(config.log_scale_init))

    scaled = layers.IntensityScaler(log_scale, name="intensity_scaler")(diffraction)
    seeds = initializer_seeds(init_seed if init_seed is not None else (seed if seed is not None else 0))
    code = _encoder(scaled, config, seeds)
    amp_activation = keras.layers.Activation(config.amp_activation, name="amp_activation")
    amplitude = _decoder(code, config, int(config.amp_head_channels), amp_activation, "amp", seeds)
    phase = _decoder(code, config, c, layers.ScaledTanh(name="phase_activation"), "phase", seeds)
    obj = layers.CombineComplex(config.combine, name="object")([amplitude, phase])

    canvas = layers.ReassemblePatches(
        config.padded_size, config.reassembly_norm_eps, config.reassembly_batching, name="reassembled"
    )([obj, positions])
    trimmed = layers.TrimCentre(n, name="trimmed_obj")(canvas)
    patches = layers.ExtractPatches(n, name="reextracted")([canvas, positions])
    lit = layers.ProbeIllumination(probe, config.probe_mask, name="probe_illumination")(patches)
    predicted = layers.FarField(name="pred_diffraction")(lit)
    amp_scaled = layers.IntensityScaler(log_scale, inverse=True, name="pred_amp_scaled")(predicted)
    intensity = layers.Square(name="pred_intensity")(amp_scaled)

    training = keras.Model([diffraction, positions], [trimmed, amp_scaled, intensity], name="pinn")
    inference = keras.Model([diffraction, positions], trimmed, name="diffraction_to_obj")
    return PinnModels(training=training, diffraction_to_obj=inference, config=config)


def param_count(model: "keras.Model") -> dict[str, int]:
    """{'trainable', 'non_trainable'} element counts, as the model summary reports them (spec 3.10.1)."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {"trainable": trainable, "non_trainable": non_trainable}


def layer_shapes(model: "keras.Model") -> dict[str, tuple[int | None, ...]]:
    """Output shape of every layer by name: the intermediate shapes of the spec 3.10.1 table.

    Keras' own `summary()` cannot size the complex64 probe weight, so this is the way to list them.
    """
    shapes: dict[str, tuple[int | None, ...]] = {}
    for layer in model.layers:
        output = layer.output
        if isinstance(output, (list, tuple)):
            continue
        shapes[layer.name] = tuple(output.shape)
    return shapes
