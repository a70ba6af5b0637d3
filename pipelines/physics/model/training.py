"""Training loop (spec 3.10.3), training record (3.10.4) and inference helpers (3.11) of the PINN.

Everything is an explicit-argument function: the model, data, scale, seed and callbacks are passed in,
and nothing is kept at module level. Determinism follows spec 9.2 rule 5: the framework is seeded (and op
determinism enabled) once, before the model is built; Keras' shuffling then draws from that state.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import keras
import numpy as np
import tensorflow as tf

from harness.errors import UsageError
from pipelines.physics.model.build import (
    ModelConfig,
    PinnModels,
    build_model,
    intensity_scale_of,
    param_count,
    seed_framework,
)
from pipelines.physics.model.loss import (
    LossConfig,
    amplitude_mae,
    deviance_per_pixel,
    poisson_nll,
    realspace_label,
    realspace_loss,
    weighted_total,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from harness.device import DeviceHandle

LEARNING_RATE = 1e-3
VALIDATION_SPLIT = 0.05
PREDICT_BATCH = 32
TERM_KEYS = ("nll", "amp_mae", "realspace")
HISTORY_KEYS = ("loss", *TERM_KEYS, "val_loss", *(f"val_{k}" for k in TERM_KEYS), "lr")

EpochHook = Callable[[int, int, dict[str, float]], None]


class _PinnTrainer(keras.Model):
    """The training graph with the spec 3.10.2 objective as `compute_loss`, logging each term.

    Targets follow spec 3.9: the amplitude target is the model input s_m*X itself and the counts are
    its square, so they are derived from x instead of being passed (and stored) twice. `y` carries the
    realspace label when the realspace MAE needs one, else None.
    """

    def __init__(self, inputs: Any, outputs: Any, loss_config: LossConfig, probe_big: bool, **kwargs: Any) -> None:
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.loss_config = loss_config
        self.probe_big = bool(probe_big)
        self.nll_tracker = keras.metrics.Mean(name="nll")
        self.amp_mae_tracker = keras.metrics.Mean(name="amp_mae")
        self.realspace_tracker = keras.metrics.Mean(name="realspace")

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> tf.Tensor:
        trimmed, amp_scaled, intensity = y_pred
        target = x[0]
        terms = {
            "nll": poisson_nll(tf.square(target), intensity, self.loss_config.nll_form),
            "amp_mae": amplitude_mae(target, amp_scaled),
            "realspace": realspace_loss(trimmed, y, self.loss_config, self.probe_big),
        }
        batch = tf.shape(target)[0]
        self.nll_tracker.update_state(terms["nll"], sample_weight=batch)
        self.amp_mae_tracker.update_state(terms["amp_mae"], sample_weight=batch)
        self.realspace_tracker.update_state(terms["realspace"], sample_weight=batch)
        return weighted_total(terms, self.loss_config)


class _EpochRecorder(keras.callbacks.Callback):
    """Collects canonical history rows (spec 3.10.4) and forwards each to the caller's hook.

    It runs before ReduceLROnPlateau, so `lr` is the rate used during the epoch.
    """

    def __init__(self, epochs: int, on_epoch: EpochHook | None) -> None:
        super().__init__()
        self.epochs = epochs
        self.on_epoch = on_epoch
        self.history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        row = {key: float(logs.get(key, math.nan)) for key in HISTORY_KEYS if key != "lr"}
        row["lr"] = float(tf.convert_to_tensor(self.model.optimizer.learning_rate).numpy())
        for key in HISTORY_KEYS:
            self.history[key].append(row[key])
        if self.on_epoch is not None:
            self.on_epoch(epoch + 1, self.epochs, dict(row))


@dataclass
class TrainingRecord:
    """What the `train` stage emits (spec 3.10.4), plus the live models for the `infer` stage.

    Epoch numbers are 1-based. `weights` is the full model weight list (trainable and the probe) in
    `model.get_weights()` order; `restore_weights` puts it back.
    """

    history: dict[str, list[float]]
    epochs_run: int
    nonfinite_first_epoch: int | None
    log_scale_init: float
    log_scale_final: float
    intensity_scale_final: float
    param_count: dict[str, int]
    weights: list[np.ndarray]
    deviance_per_pixel: float
    n_train: int
    n_validation: int
    models: PinnModels | None = field(default=None, repr=False, compare=False)


def validation_split_index(n: int) -> int:
    """floor(0.95 n): samples before it train, the rest validate (spec 3.10.3, Keras' own formula)."""
    return int(math.floor(n * (1.0 - VALIDATION_SPLIT)))


def first_nonfinite_epoch(history: dict[str, list[float]]) -> int | None:
    """1-based epoch of the first non-finite history value, or None (spec 3.10.4, A-7)."""
    epochs = max((len(values) for values in history.values()), default=0)
    for epoch in range(epochs):
        for values in history.values():
            if epoch < len(values) and not math.isfinite(values[epoch]):
                return epoch + 1
    return None


def _model_inputs(x: np.ndarray, coords_relative: np.ndarray, intensity_scale: float) -> list[np.ndarray]:
    """[s*X float32, coords_relative float32 (B,1,2,C)], the model input convention of spec 3.9."""
    x = np.asarray(x, dtype=np.float32)
    coords = np.asarray(coords_relative, dtype=np.float32)
    if x.ndim != 4 or coords.shape != (x.shape[0], 1, 2, x.shape[3]):
        raise UsageError(f"expected X (B,N,N,C) and coords_relative (B,1,2,C), got {x.shape} and {coords.shape}")
    return [x * np.float32(intensity_scale), coords]


_TRACED: "weakref.WeakKeyDictionary[keras.Model, dict[tuple, Callable[..., Any]]]" = weakref.WeakKeyDictionary()
"""Each live model's traced forward pass per input signature: traced once, reused by later stages."""


def _traced_forward(model: keras.Model, inputs: list[np.ndarray]) -> Callable[..., Any]:
    """`model(inputs, training=False)` as a tf.function with a free batch dimension, traced once per model."""
    signature = [tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in inputs]
    key = tuple((tuple(spec.shape.as_list()), spec.dtype.name) for spec in signature)
    traced = _TRACED.setdefault(model, {})
    if key not in traced:
        live = weakref.ref(model)  # the traced graph must not keep its model alive (a Dask worker runs many)
        traced[key] = tf.function(lambda *arrays: live()(list(arrays), training=False), input_signature=signature)
    return traced[key]


def _run_batched(model: keras.Model, inputs: list[np.ndarray], batch_size: int,
                 graph: bool | None = None) -> list[np.ndarray]:
    """Call `model` on consecutive batches (the last one partial) and concatenate each output.

    By default (`graph` None) a single batch runs eagerly; more run through one tf.function traced with a
    free batch dimension (graph execution is markedly faster per batch than eager on CPU, and the partial
    last batch must not retrace), kept with the model so that a later stage predicting with the same live
    model does not trace it again. `graph` forces either mode (a replay of one batch of a longer run).
    """
    n = inputs[0].shape[0]

    def forward(*arrays: tf.Tensor) -> Any:
        return model(list(arrays), training=False)

    if n > batch_size if graph is None else graph:
        forward = _traced_forward(model, inputs)
    chunks: list[list[np.ndarray]] = []
    for start in range(0, n, batch_size):
        outputs = forward(*[tf.constant(a[start : start + batch_size]) for a in inputs])
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        chunks.append([np.asarray(o) for o in outputs])
    return [np.concatenate(parts, axis=0) for parts in zip(*chunks)]


def _log_scales(models: PinnModels) -> tuple[float, float]:
    """L as held by the forward and the inverse scaler of the built model (they share one value)."""
    forward = models.training.get_layer("intensity_scaler").log_scale.value
    inverse = models.training.get_layer("pred_amp_scaled").log_scale.value
    return forward, inverse


def train_model(
    config: ModelConfig,
    probe: np.ndarray,
    x: np.ndarray,
    coords_relative: np.ndarray,
    intensity_scale: float,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    loss: LossConfig | None = None,
    y_obj_grouped: np.ndarray | None = None,
    device: "DeviceHandle | None" = None,
    on_epoch: EpochHook | None = None,
) -> TrainingRecord:
    """Seed, build and fit the PINN as spec 3.10.3 prescribes; return the 3.10.4 record.

    x is the normalised diffraction X (B,N,N,C) and intensity_scale is s_m: the model sees s_m*X.
    Adam(1e-3); fit(batch_size, shuffle=True, epochs, validation_split=0.05);
    ReduceLROnPlateau(val_loss, 0.5, patience 2, min_lr 1e-4); EarlyStopping(loss, patience 3); no XLA.
    `seed` seeds the framework before the build (with `device`, through DeviceHandle.seed_tensorflow);
    the same seed gives bitwise-identical weights and history on the same machine.
    `y_obj_grouped` (B,N,N,C) complex is needed only when loss.realspace_mae_weight > 0.
    `on_epoch(epoch, epochs, logs)` is called after each epoch with the canonical keys.
    """
    loss = loss or LossConfig()
    if epochs < 1 or batch_size < 1:
        raise UsageError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    inputs = _model_inputs(x, coords_relative, intensity_scale)
    n = inputs[0].shape[0]
    split = validation_split_index(n)
    if split < 1:
        raise UsageError(f"{n} groups leave no training samples after the 5% validation split")
    label = None
    if loss.needs_realspace_label:
        if y_obj_grouped is None:
            raise UsageError("realspace_mae_weight > 0 needs y_obj_grouped for the realspace label")
        label = realspace_label(y_obj_grouped, coords_relative)

    seed_framework(seed, device)
    models = build_model(config, probe, seed=None, init_seed=seed)
    log_scale_init = _log_scales(models)[0]
    trainer = _PinnTrainer(
        models.training.inputs, models.training.outputs, loss, config.probe_big, name="pinn_trainer"
    )
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE), jit_compile=False)
    # Create the Adam slots now: slots created inside the first trace make TF trace the step twice.
    trainer.optimizer.build(trainer.trainable_variables)
    recorder = _EpochRecorder(epochs, on_epoch)
    callbacks = [
        recorder,
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-4),
        keras.callbacks.EarlyStopping(monitor="loss", patience=3),
    ]
    trainer.fit(
        x=inputs,
        y=label,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        validation_split=VALIDATION_SPLIT,
        callbacks=callbacks,
        verbose=0,
    )

    forward, inverse = _log_scales(models)
    if forward != inverse:
        raise AssertionError("the scaler and its inverse must share one log_scale")
    validation = [a[split:] for a in inputs]
    # Batched like Keras' own validation pass, so the collapse knob (S5) sees the same batches.
    amp_scaled = _run_batched(models.training, validation, batch_size)[1]
    deviance = deviance_per_pixel(
        np.square(validation[0].astype(np.float64)), np.square(amp_scaled.astype(np.float64))
    )
    history = recorder.history
    return TrainingRecord(
        history=history,
        epochs_run=len(history["loss"]),
        nonfinite_first_epoch=first_nonfinite_epoch(history),
        log_scale_init=log_scale_init,
        log_scale_final=forward,
        intensity_scale_final=intensity_scale_of(forward),
        param_count=param_count(models.training),
        weights=[np.array(w) for w in models.training.get_weights()],
        deviance_per_pixel=deviance,
        n_train=split,
        n_validation=n - split,
        models=models,
    )


def restore_weights(models: PinnModels, weights: list[np.ndarray], keep_probe: bool = True) -> None:
    """Load a `TrainingRecord.weights` list into freshly built models (the 'bundle load' of spec 3.11).

    With keep_probe (default) the probe the models were built with is kept: the infer stage re-sets the
    probe from its own container (spec 3.11); the trained weights are restored either way.
    """
    variables = models.training.weights
    if len(variables) != len(weights):
        raise UsageError(f"weight list has {len(weights)} arrays, the model {len(variables)}")
    for variable, value in zip(variables, weights):
        if tuple(variable.shape) != tuple(np.shape(value)):
            raise UsageError(f"weight {variable.path}: shape {np.shape(value)} does not fit {tuple(variable.shape)}")
        if keep_probe and not variable.trainable and variable.name == "probe":
            continue
        variable.assign(value)


def predict_patches(
    models: PinnModels,
    x: np.ndarray,
    coords_relative: np.ndarray,
    intensity_scale: float,
    batch_size: int = PREDICT_BATCH,
    graph: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inference of spec 3.11 on [s*X, coords_relative] in batches of 32 (the last one partial).

    Returns (trimmed_obj (B,N,N,1) complex64, pred_amp (B,N,N,C) float32 scaled by exp(log_scale)).
    trimmed_obj is the `diffraction_to_obj` output; both come from one pass of the shared layers.
    `graph` as in `_run_batched`.
    """
    inputs = _model_inputs(x, coords_relative, intensity_scale)
    trimmed, amp_scaled, _ = _run_batched(models.training, inputs, batch_size, graph)
    return trimmed.astype(np.complex64), amp_scaled.astype(np.float32)
