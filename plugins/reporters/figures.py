"""Figures format: PNGs of what the checks reason about, both sides overlaid, in `<run>/figures/`.

Each figure in `FIGURES` names the artifacts it cannot do without. It is drawn for the sides that
stored them and skipped (its PNG removed) when no side did, so a run that stopped early still gets
the figures of the stages it reached. Artifacts are read from the run folder one at a time and
never unpickled; of the per-pattern stacks only the first rows are read, because the full profile
keeps gigabytes there. A figure whose data cannot be drawn becomes a PNG that says why.

Drawing is slow, so the set is keyed like the stage cache: `figures/index.json` keeps a digest of
every stored stage record, the side labels and this module; while it matches, the PNGs on disk
are reused (the `figures` and `html` formats of one run, and `harness show`, draw once).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np
from rich.console import Console
from rich.text import Text

from harness import ReporterSpec, hookimpl
from harness.report import Report
from harness.store import StageFiles, atomic_write_bytes, atomic_write_json

if TYPE_CHECKING:  # matplotlib is imported only when drawing: every harness process loads this plugin
    from matplotlib.figure import Figure

FIGURE_DIR = "figures"
INDEX = "index.json"
SIDE_COLOURS = ("tab:blue", "tab:orange", "tab:green")
HEAD_ROWS = 256
"""Rows of a per-pattern stack read for examples (what the store guarantees to keep of a huge array)."""


class SideStore:
    """One side's stored artifacts, read on demand from its folder and kept once read."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._records: dict[str, dict[str, Any] | None] = {}
        self._values: dict[tuple[str, str], Any] = {}

    def _record(self, stage: str) -> dict[str, Any] | None:
        if stage not in self._records:
            record = StageFiles(self.folder, stage).read_record()
            self._records[stage] = record if record and record.get("status") in ("ok", "cached") else None
        return self._records[stage]

    def has(self, stage: str, name: str) -> bool:
        """Whether the stage completed and stored an artifact of this name (reads only its JSON record)."""
        record = self._record(stage)
        return record is not None and name in record.get("artifacts", {})

    def get(self, stage: str, name: str) -> Any:
        """The artifact's value, or None when it is absent or unreadable."""
        key = (stage, name)
        if key not in self._values:
            self._values[key] = self._read(stage, name, rows=None)
        return self._values[key]

    def head(self, stage: str, name: str, rows: int = HEAD_ROWS) -> np.ndarray | None:
        """The first `rows` rows of an array artifact, read without loading the rest."""
        return self._read(stage, name, rows=rows)

    def _read(self, stage: str, name: str, rows: int | None) -> Any:
        if not self.has(stage, name):
            return None
        info = self._record(stage)["artifacts"][name]
        if info.get("kind") == "value":
            return info.get("value")
        if info.get("kind") != "array":
            return None
        try:
            return _read_npz_member(StageFiles(self.folder, stage).npz, name, rows)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None

    def number(self, stage: str, name: str) -> float | None:
        """A scalar artifact as a float, or None."""
        value = self.get(stage, name)
        try:
            return float(np.asarray(value).reshape(()))
        except (TypeError, ValueError):
            return None


def _read_npz_member(path: Path, name: str, rows: int | None) -> np.ndarray:
    """Read one array of an uncompressed `.npz`, optionally only its leading rows; refuses object arrays."""
    with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as handle:
        major, _ = np.lib.format.read_magic(handle)
        reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = reader(handle)
        if dtype.hasobject:
            raise ValueError(f"{name}: object arrays are never loaded")
        kept = shape if rows is None or fortran or not shape else (min(rows, shape[0]), *shape[1:])
        size = int(np.prod(kept, dtype=np.int64))
        array = np.frombuffer(handle.read(size * dtype.itemsize), dtype=dtype, count=size)
        return array.reshape(kept, order="F" if fortran else "C")


@dataclass(frozen=True)
class Side:
    """A side as figures draw it: report key, legend label, colour and its stored artifacts."""

    key: str
    label: str
    colour: str
    store: SideStore


@dataclass(frozen=True)
class FigureSpec:
    """One figure: file name, title, the `stage/artifact` names it needs, and how to draw it."""

    name: str
    title: str
    needs: tuple[str, ...]
    draw: Callable[[list[Side]], Figure]

    def drawable(self, side: Side) -> bool:
        return all(side.store.has(*need.split("/", 1)) for need in self.needs)


# ---------------------------------------------------------------- drawing helpers


def _new_figure(**options: Any) -> Figure:
    """A figure bound to the Agg canvas, outside pyplot's global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(**options)
    FigureCanvasAgg(figure)
    return figure


def _grid(rows: int, cols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    figure = _new_figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False)
    return figure, axes


def _image(ax: Any, data: np.ndarray, title: str, **kwargs: Any) -> Any:
    shown = ax.imshow(data, interpolation="nearest", **kwargs)
    ax.set_title(title, fontsize=9)
    return shown


def _colorbar(figure: Figure, shown: Any, axes: Any) -> None:
    """One colour bar for panels sharing a colour scale (fewer bars: clearer, and much faster to lay out)."""
    figure.colorbar(shown, ax=axes, shrink=0.85)


def _finite_max(values: np.ndarray, default: float = 1.0) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size and finite.max() > 0 else default


def _outline(ax: Any, mask_or_weights: np.ndarray, extent: tuple[float, float, float, float] | None = None,
             colour: str = "white") -> None:
    """Contour at 0.5 (coverage or a boolean mask), drawn only when the level is crossed."""
    values = np.nan_to_num(np.asarray(mask_or_weights, dtype=float))
    if values.min() >= 0.5 or values.max() <= 0.5:
        return
    ax.contour(values, levels=[0.5], colors=colour, linewidths=0.9, extent=extent, origin="upper")


# ---------------------------------------------------------------- figures


def draw_probe(sides: list[Side]) -> Figure:
    """Probe amplitude and phase per side, the mask outlined; phase hidden where |P| < 1% of its peak."""
    probes = [np.asarray(side.store.get("probe", "probe")) for side in sides]
    top = max(_finite_max(np.abs(probe)) for probe in probes)
    figure, axes = _grid(len(sides), 2, 4.0, 3.6)
    for row, side, probe in zip(axes, sides, probes):
        amplitude = np.abs(probe)
        phase = np.where(amplitude > 0.01 * _finite_max(amplitude), np.angle(probe), np.nan)
        shown = (_image(row[0], amplitude, f"{side.label}: |probe|", cmap="viridis", vmin=0, vmax=top),
                 _image(row[1], phase, f"{side.label}: phase (rad)", cmap="twilight", vmin=-np.pi, vmax=np.pi))
        mask = side.store.get("probe", "probe_mask")
        if mask is not None and np.shape(mask) == probe.shape:
            for ax in row:
                _outline(ax, np.asarray(mask))
    for column, image in enumerate(shown):
        _colorbar(figure, image, axes[:, column])
    figure.suptitle("probe (mask outlined)")
    return figure


def draw_diffraction(sides: list[Side]) -> Figure:
    """The dimmest, median and brightest of the first stored patterns, on one shared log colour scale."""
    from matplotlib.colors import LogNorm

    stacks = {side.key: np.asarray(side.store.head("simulate", "diffraction"), dtype=np.float64) for side in sides}
    positive = [s[s > 0] for s in stacks.values() if np.any(s > 0)]
    vmin = min(float(p.min()) for p in positive) if positive else 1e-6
    vmax = max(float(p.max()) for p in positive) if positive else 1.0
    figure, axes = _grid(len(sides), 3, 3.3, 3.2)
    norm = LogNorm(vmin=vmin, vmax=max(vmax, vmin * 10))
    for row, side in zip(axes, sides):
        stack = stacks[side.key]
        energy = np.nansum(stack.reshape(len(stack), -1) ** 2, axis=1)
        order = np.argsort(energy, kind="stable")
        picks = (("dimmest", order[0]), ("median", order[len(order) // 2]), ("brightest", order[-1]))
        for ax, (label, index) in zip(row, picks):
            pattern = np.ma.masked_less_equal(stack[index], 0)
            shown = _image(ax, pattern, f"{side.label}: #{index} {label}\nΣA² = {energy[index]:.4g}", cmap="magma",
                           norm=norm)
    _colorbar(figure, shown, axes)
    figure.suptitle(f"diffraction amplitude (log scale; of the first {HEAD_ROWS} patterns; zeros blank)")
    return figure


SCALE_CHAIN = (
    ("simulate", "s_sim", "photon scale s_sim"),
    ("normalize", "gain.train", "gain (train)"),
    ("normalize", "gain.infer", "gain (infer)"),
    ("scale", "intensity_scale", "intensity scale s_m"),
    ("scale", "count_ratio_nominal", "count ratio nominal (N-9)"),
    ("scale", "count_ratio_true", "count ratio true (N-10)"),
    ("scale", "expected_scale", "expected_scale"),
)


def draw_scale_chain(sides: list[Side]) -> Figure:
    """One panel per link of the scale chain, a bar per side with its value; ratio panels show their target."""
    links = [link for link in SCALE_CHAIN if any(side.store.has(link[0], link[1]) for side in sides)]
    cols = min(4, len(links))
    rows = -(-len(links) // cols)
    figure, axes = _grid(rows, cols, 3.0, 2.8)
    for ax in axes.flat[len(links):]:
        ax.set_visible(False)
    for ax, (stage, name, label) in zip(axes.flat, links):
        values = [side.store.number(stage, name) for side in sides]
        heights = [v if v is not None and np.isfinite(v) else 0.0 for v in values]
        bars = ax.bar([side.key.upper() for side in sides], heights, color=[side.colour for side in sides])
        for bar, value in zip(bars, values):
            text = "absent" if value is None else f"{value:.6g}"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize=8, xytext=(0, 2), textcoords="offset points")
        if name.startswith("count_ratio"):
            ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8)
        if name == "count_ratio_true":
            ax.axhspan(0.9, 1.1, color="green", alpha=0.12)
        ax.margins(y=0.2)
        ax.set_title(f"{stage}\n{label}", fontsize=9)
    figure.suptitle("scale chain, stage by stage (" + ", ".join(side.label for side in sides) + ")")
    return figure


def _model_geometry(store: SideStore) -> tuple[float | None, float | None]:
    """(padded_size, N): the model's own padded size when train ran, else the configured one."""
    model = store.get("train", "model_config")
    config = store.get("config", "config") or {}
    derived = store.get("config", "derived") or {}
    padded = (model or {}).get("padded_size") if isinstance(model, dict) else None
    padded = padded or config.get("padded_size") or derived.get("padded_size")
    size = (model or {}).get("N") if isinstance(model, dict) else None
    size = size or config.get("N")
    return (float(padded) if padded else None, float(size) if size else None)


def _xy(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of (B, 1, 2, C) or (n, 2) coordinates, flattened ([x, y] order, x first)."""
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim == 4:
        return coords[:, 0, 0, :].ravel(), coords[:, 0, 1, :].ravel()
    return coords[:, 0], coords[:, 1]


def draw_offsets(sides: list[Side]) -> Figure:
    """Scan positions with group centres, and local offsets inside the model's padded canvas square."""
    figure, axes = _grid(len(sides), 2, 4.6, 4.2)
    for (left, right), side in zip(axes, sides):
        store = side.store
        positions = store.get("scan", "positions")
        if positions is not None:
            left.scatter(*_xy(positions), s=2, color="0.6", label="scan positions")
        for split, marker in (("train", "o"), ("infer", "x")):
            centres = store.get("group", f"coords_offsets.{split}")
            if centres is not None:
                left.scatter(*_xy(centres), s=12, marker=marker, label=f"group centres ({split})")
        left.set_aspect("equal")
        left.invert_yaxis()
        left.set_xlabel("x (px)")
        left.set_ylabel("y (px)")
        left.legend(fontsize=7, loc="upper right")
        left.set_title(f"{side.label}: positions and group centres", fontsize=9)
        largest = np.zeros(0)
        for split, marker in (("train", "o"), ("infer", "x")):
            relative = store.get("group", f"coords_relative.{split}")
            if relative is not None:
                x, y = _xy(relative)
                right.scatter(x, y, s=10, marker=marker, label=f"coords_relative ({split})")
                largest = np.concatenate([largest, np.maximum(np.abs(x), np.abs(y))])
        extent = _finite_max(largest, 0.0)
        padded, size = _model_geometry(store)
        title = f"{side.label}: local offsets, max |·| {extent:.3g} px"
        if padded and size:
            limit = (padded - size) / 2
            _square(right, padded / 2, "black", "-", f"padded canvas {padded:g} px")
            _square(right, size / 2, "0.5", ":", f"patch N = {size:g} px")
            _square(right, limit, "red", "--", f"fits while |offset| ≤ {limit:g}")
            extent = max(extent, padded / 2)
            title += f"\n{int(np.sum(largest > limit))} of {largest.size} beyond the limit {limit:g} px"
        else:
            title += "\n(padded size not stored)"
        span = 1.1 * max(extent, 1.0)
        right.set_xlim(-span, span)
        right.set_ylim(span, -span)
        right.set_aspect("equal")
        right.set_xlabel("x (px)")
        right.legend(fontsize=7, loc="upper right")
        right.set_title(title, fontsize=9)
    figure.suptitle("offsets")
    return figure


def _square(ax: Any, half: float, colour: str, style: str, label: str) -> None:
    ax.plot([-half, half, half, -half, -half], [-half, -half, half, half, -half], color=colour, linestyle=style,
            linewidth=1.2, label=label, zorder=3)


def expected_scale(store: SideStore) -> float | None:
    """expected_scale from the scale stage, else from the evaluation metrics."""
    value = store.number("scale", "expected_scale")
    if value is None:
        metrics = store.get("evaluate", "metrics")
        if isinstance(metrics, dict) and isinstance(metrics.get("expected_scale"), (int, float)):
            value = float(metrics["expected_scale"])
    return value


@dataclass(frozen=True)
class Canvas:
    """A side's stitched canvas registered in object coordinates, with coverage and truth when stored."""

    canvas: np.ndarray
    coverage: np.ndarray | None
    truth: np.ndarray | None
    extent: tuple[float, float, float, float]
    scale: float | None

    @classmethod
    def load(cls, store: SideStore) -> "Canvas":
        canvas = np.asarray(store.get("stitch", "canvas"))
        coverage = store.get("stitch", "coverage")
        truth = store.get("evaluate", "truth_on_canvas")
        origin = store.get("stitch", "canvas_origin")
        top, left = (0.0, 0.0) if origin is None else np.asarray(origin, dtype=np.float64).ravel()[:2]
        height, width = canvas.shape
        return cls(canvas=canvas,
                   coverage=None if coverage is None else np.asarray(coverage, dtype=np.float64),
                   truth=None if truth is None else np.asarray(truth),
                   extent=(left - 0.5, left + width - 0.5, top + height - 0.5, top - 0.5),
                   scale=expected_scale(store))

    def covered(self) -> np.ndarray:
        """Covered pixels: coverage > 0.5 (all pixels when no coverage is stored) and a finite canvas."""
        mask = np.isfinite(self.canvas)
        if self.coverage is not None and self.coverage.shape == self.canvas.shape:
            mask &= self.coverage > 0.5
        return mask

    def has_truth(self) -> bool:
        return self.truth is not None and self.truth.shape == self.canvas.shape

    def amplitude(self) -> np.ndarray:
        """|canvas| on the truth's scale: divided by expected_scale when it is known."""
        return np.abs(self.canvas) / (self.scale or 1.0)

    def outline(self, ax: Any) -> None:
        if self.coverage is not None and self.coverage.shape == self.canvas.shape:
            _outline(ax, self.coverage, self.extent, colour="red")


def draw_reconstruction(sides: list[Side]) -> Figure:
    """|canvas| / expected_scale and phase next to the truth on the same object coordinates, coverage outlined."""
    canvases = [Canvas.load(side.store) for side in sides]
    with_truth = any(data.has_truth() for data in canvases)
    top = max(_finite_max(np.abs(data.truth)) if data.has_truth() else _finite_max(data.amplitude()[data.covered()])
              for data in canvases)
    styles = {"amplitude": {"cmap": "gray", "vmin": 0, "vmax": top},
              "phase": {"cmap": "twilight", "vmin": -np.pi, "vmax": np.pi}}
    columns = ("amplitude", "amplitude", "phase", "phase") if with_truth else ("amplitude", "phase")
    figure, axes = _grid(len(sides), len(columns), 3.4, 3.3)
    shown: dict[str, Any] = {}
    for row, side, data in zip(axes, sides, canvases):
        divisor = f"÷ expected_scale {data.scale:.4g}" if data.scale else "(expected_scale not stored: ÷ 1)"
        truth = data.truth if data.has_truth() else np.full(data.canvas.shape, np.nan)
        panels = [(data.amplitude(), f"{side.label}: |canvas| {divisor}"),
                  (np.abs(truth), f"{side.label}: |truth| on canvas"),
                  (np.angle(data.canvas), f"{side.label}: phase of canvas"),
                  (np.angle(truth), f"{side.label}: truth phase")]
        if not with_truth:
            panels = panels[0::2]
        for ax, kind, (values, title) in zip(row, columns, panels):
            shown[kind] = _image(ax, values, title, extent=data.extent, **styles[kind])
            data.outline(ax)
    for kind, image in shown.items():
        _colorbar(figure, image, axes[:, [i for i, c in enumerate(columns) if c == kind]])
    figure.suptitle("reconstruction vs truth in object coordinates (x right, y down; red: coverage 0.5)")
    return figure


def draw_error(sides: list[Side]) -> Figure:
    """|canvas| / expected_scale − |truth| on covered pixels, with its mean, MAE and the covered fraction."""
    canvases = [Canvas.load(side.store) for side in sides]
    errors = []
    for side, data in zip(sides, canvases):
        if not data.has_truth():
            raise ValueError(f"{side.label}: truth_on_canvas {None if data.truth is None else data.truth.shape} "
                             f"does not match canvas {data.canvas.shape}")
        covered = data.covered() & np.isfinite(data.truth)
        errors.append((covered, np.where(covered, data.amplitude() - np.abs(data.truth), np.nan)))
    spread = [np.abs(error[covered]) for covered, error in errors if covered.any()]
    limit = max(float(np.percentile(values, 99)) for values in spread) if spread else 1.0
    figure, axes = _grid(1, len(sides), 4.6, 4.4)
    for ax, side, data, (covered, error) in zip(axes[0], sides, canvases, errors):
        values = error[covered]
        stats = (f"mean {values.mean():+.3g}, MAE {np.abs(values).mean():.3g}\non {values.size} px "
                 f"({covered.mean():.1%} of the canvas)" if values.size else "no covered pixel")
        scaled = f"÷ {data.scale:.4g}" if data.scale else "÷ 1 (no expected_scale)"
        shown = _image(ax, error, f"{side.label}: |canvas| {scaled} − |truth|\n{stats}", cmap="RdBu_r",
                       vmin=-(limit or 1.0), vmax=limit or 1.0, extent=data.extent)
        data.outline(ax)
    _colorbar(figure, shown, axes)
    figure.suptitle("amplitude error on covered pixels (blank: not covered)")
    return figure


HISTORY_FIRST = ("loss", "val_loss", "nll", "amp_mae", "lr")


def draw_training(sides: list[Side]) -> Figure:
    """Every per-epoch series of `history`, both sides per panel; the first non-finite epoch is marked."""
    histories = {side.key: side.store.get("train", "history") or {} for side in sides}
    numeric = {key for history in histories.values() for key, series in history.items() if _is_series(series)}
    keys = [k for k in HISTORY_FIRST if k in numeric] + sorted(numeric - set(HISTORY_FIRST))
    if not keys:
        raise ValueError("history holds no per-epoch numeric series")
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    figure, axes = _grid(rows, cols, 3.8, 2.8)
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    for ax, key in zip(axes.flat, keys):
        positive = True
        for side in sides:
            series = histories[side.key].get(key)
            if not _is_series(series):
                continue
            values = np.array([np.nan if v is None else v for v in series], dtype=np.float64)
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, marker=".", color=side.colour, label=side.label)
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                ax.axvline(epochs[bad[0]], color=side.colour, linestyle=":", label=f"{side.key.upper()} non-finite")
            positive &= bool(np.all(values[np.isfinite(values)] > 0))
        if key == "lr" and positive:
            ax.set_yscale("log")
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    figure.suptitle("training history")
    return figure


def _is_series(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(v is None or isinstance(v, (int, float)) for v in value)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("probe", "Probe amplitude and phase", ("probe/probe",), draw_probe),
    FigureSpec("diffraction", "Diffraction examples (log scale)", ("simulate/diffraction",), draw_diffraction),
    FigureSpec("scale_chain", "Scale chain: gain, intensity scale, count ratios, expected_scale",
               ("scale/intensity_scale",), draw_scale_chain),
    FigureSpec("offsets", "Offsets: positions, group centres, local offsets in the padded canvas",
               ("group/coords_relative.train",), draw_offsets),
    FigureSpec("reconstruction", "Reconstruction vs truth on the registered canvas", ("stitch/canvas",),
               draw_reconstruction),
    FigureSpec("error", "Amplitude error heatmap on covered pixels",
               ("stitch/canvas", "evaluate/truth_on_canvas"), draw_error),
    FigureSpec("training", "Training curves", ("train/history",), draw_training),
)


# ---------------------------------------------------------------- rendering


def report_sides(report: Report, run_dir: Path) -> list[Side]:
    """The report's sides with their labels, colours and stores under the run folder."""
    return [Side(key, f"{key.upper()} {info.pipeline}".strip(), SIDE_COLOURS[i % len(SIDE_COLOURS)],
                 SideStore(Path(run_dir) / key))
            for i, (key, info) in enumerate(report.sides.items())]


def figure_path(run_dir: Path, name: str) -> Path:
    return Path(run_dir) / FIGURE_DIR / f"{name}.png"


def _fingerprint(sides: list[Side]) -> str:
    """Digest of everything a figure can depend on: the stage records (they hold the artifact checksums),
    the side labels, this module and the matplotlib version."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(importlib.metadata.version("matplotlib").encode())
    for side in sides:
        digest.update(f"\0{side.key}\0{side.label}\0".encode())
        for record in sorted(side.store.folder.glob("*.json")):
            digest.update(record.name.encode())
            digest.update(record.read_bytes())
    return digest.hexdigest()


def _reusable(run_dir: Path, fingerprint: str) -> dict[str, Path] | None:
    """The figures drawn earlier from identical inputs, when their index matches and every PNG is there."""
    try:
        index = json.loads((Path(run_dir) / FIGURE_DIR / INDEX).read_text())
    except (OSError, ValueError):
        return None
    if index.get("fingerprint") != fingerprint:
        return None
    paths = {name: figure_path(run_dir, name) for name in index.get("figures", [])}
    return paths if all(path.is_file() for path in paths.values()) else None


def render_figures(report: Report, run_dir: Path) -> dict[str, Path]:
    """Draw every figure some side has the artifacts for; returns name → PNG path (skipped ones absent)."""
    sides = report_sides(report, run_dir)
    fingerprint = _fingerprint(sides)
    reused = _reusable(run_dir, fingerprint)
    if reused is not None:
        return reused
    written: dict[str, Path] = {}
    for spec in FIGURES:
        path = figure_path(run_dir, spec.name)
        ready = [side for side in sides if spec.drawable(side)]
        if not ready:
            path.unlink(missing_ok=True)
            continue
        try:
            figure = spec.draw(ready)
        except Exception as exc:  # a malformed artifact must not hide the other figures
            figure = _failure_figure(spec, exc)
        missing = [side.label for side in sides if side not in ready]
        if missing:
            figure.supxlabel(f"not stored by {', '.join(missing)}", fontsize=8, color="0.35")
        atomic_write_bytes(path, _png_bytes(figure))
        written[spec.name] = path
    atomic_write_json(Path(run_dir) / FIGURE_DIR / INDEX, {"fingerprint": fingerprint, "figures": list(written)})
    return written


def _failure_figure(spec: FigureSpec, exc: Exception) -> Figure:
    figure = _new_figure(figsize=(7, 1.6))
    figure.text(0.02, 0.5, f"{spec.title}: could not be drawn from the stored artifacts\n{type(exc).__name__}: {exc}",
                va="center", fontsize=9, color="darkred", wrap=True)
    return figure


def _png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def stored_figures(run_dir: Path) -> dict[str, Path]:
    """Figures of the catalogue already rendered into the run folder."""
    return {spec.name: figure_path(run_dir, spec.name) for spec in FIGURES if figure_path(run_dir, spec.name).is_file()}


def figure_notes(report: Report, run_dir: Path, rendered: Mapping[str, Path]) -> dict[str, str]:
    """A one-line reason for each catalogue figure that is not in `rendered`."""
    sides = report_sides(report, run_dir)
    notes = {}
    for spec in FIGURES:
        if spec.name in rendered:
            continue
        if any(spec.drawable(side) for side in sides):
            notes[spec.name] = f"{spec.title}: not rendered yet (add `figures` to --format, before this format)"
        else:
            notes[spec.name] = f"{spec.title}: skipped, no side stored {' and '.join(spec.needs)}"
    return notes


def render_figures_format(report: Report, run_dir: Path, console: Console) -> None:
    """Write the PNGs and list them, with a line for each figure that was skipped."""
    written = render_figures(report, run_dir)
    for name, path in written.items():
        console.print(Text(f"figure {name}: {path}"))
    for note in figure_notes(report, run_dir, written).values():
        console.print(Text(f"figure {note}", style="dim"))


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("figures", render_figures_format, "PNG figures of probe, diffraction, scale chain, offsets, "
                                                            "reconstruction, error and training in <run>/figures/")]
