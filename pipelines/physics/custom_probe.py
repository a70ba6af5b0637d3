"""The synthetic custom probe `custom_synth_v1` (spec 3.2.5), its fixture files and a probe loader.

Regenerate the shipped fixture with `python -m pipelines.physics.custom_probe --write`.
"""
from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from pipelines.physics.probe import ideal_probe_raw, normalize_probe, normalize_probe_study_era, probe_mask

PROBE_SIZE = 64
PUPIL_RADIUS = 23.92
EDGE_WIDTH = 4.54
OBSTRUCTION = 0.18
DEFOCUS = 7.84
ASTIGMATISM = 1.13
ASTIGMATISM_ANGLE = np.pi / 6
COMA = 1.84
COMA_ANGLE = np.pi / 3
TARGET_MASKED_MEAN = 0.275075
PROBE_KEY = "probeGuess"
FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "probes"
FIXTURE_NPZ = FIXTURE_DIR / "custom_synth_v1.npz"
FIXTURE_JSON = FIXTURE_DIR / "custom_synth_v1.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_STAT_DIGITS = 10


def custom_synth_v1() -> np.ndarray:
    """Generate P_raw of custom_synth_v1: aberrated annular pupil -> real space, scaled (spec 3.2.5)."""
    n = PROBE_SIZE
    k = np.arange(n, dtype=np.float64) - n // 2
    k_x, k_y = np.meshgrid(k, k)
    r = np.hypot(k_x, k_y)
    theta = np.arctan2(k_y, k_x)
    amplitude = 0.5 * (
        np.tanh((r - OBSTRUCTION * PUPIL_RADIUS) / EDGE_WIDTH) - np.tanh((r - PUPIL_RADIUS) / EDGE_WIDTH)
    )
    rho = r / PUPIL_RADIUS
    phase = (
        DEFOCUS * (2 * rho**2 - 1)
        + ASTIGMATISM * rho**2 * np.cos(2 * (theta - ASTIGMATISM_ANGLE))
        + COMA * (3 * rho**3 - 2 * rho) * np.cos(theta - COMA_ANGLE)
    )
    pupil = amplitude * np.exp(1j * phase)
    import scipy.fft  # lazy, as in pipelines.physics.forward

    field = scipy.fft.fftshift(scipy.fft.ifft2(scipy.fft.ifftshift(pupil)))
    masked_mean = np.mean(np.abs(field) * probe_mask(n))
    return (field * (TARGET_MASKED_MEAN / masked_mean)).astype(np.complex64)


def load_probe_file(path: str | Path) -> np.ndarray:
    """Load a 64x64 complex `probeGuess` from an .npz file as complex64 (knob X2, spec 5.3)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"probe file {path} does not exist")
    with np.load(path, allow_pickle=False) as archive:
        if PROBE_KEY not in archive.files:
            raise ValueError(f"probe file {path} has no key {PROBE_KEY!r}; keys: {sorted(archive.files)}")
        probe = archive[PROBE_KEY]
    if probe.shape != (PROBE_SIZE, PROBE_SIZE):
        raise ValueError(f"probe {PROBE_KEY!r} in {path} has shape {probe.shape}; expected (64, 64)")
    if not np.iscomplexobj(probe):
        raise ValueError(f"probe {PROBE_KEY!r} in {path} has dtype {probe.dtype}; expected a complex dtype")
    if not np.all(np.isfinite(probe)):
        raise ValueError(f"probe {PROBE_KEY!r} in {path} contains non-finite values")
    return probe.astype(np.complex64)


def probe_npz_bytes(probe: np.ndarray) -> bytes:
    """Serialise a probe as an .npz (key `probeGuess`) with fixed zip timestamps, so bytes are reproducible."""
    array_buffer = io.BytesIO()
    np.lib.format.write_array(array_buffer, np.ascontiguousarray(probe), allow_pickle=False)
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, mode="w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(f"{PROBE_KEY}.npy", date_time=_ZIP_DATE)
        info.external_attr = 0o644 << 16
        archive.writestr(info, array_buffer.getvalue())
    return zip_buffer.getvalue()


def custom_probe_statistics(probe_raw: np.ndarray) -> dict:
    """Statistics of spec 3.2.5 for the JSON sidecar: raw, normalised (ps 4, 10, study era), shape."""
    mask = probe_mask(PROBE_SIZE)
    magnitude = np.abs(probe_raw).astype(np.float64)
    energy = magnitude**2
    rows, cols = np.indices(magnitude.shape)
    ideal, _ = normalize_probe(ideal_probe_raw(PROBE_SIZE), 10.0, mask)
    stats = {
        "raw": _magnitude_stats(magnitude) | {"masked_mean": float(np.mean(magnitude * mask))},
        "intensity_centroid_row_col": [float((energy * rows).sum() / energy.sum()),
                                       float((energy * cols).sum() / energy.sum())],
        "argmax_row_col": [int(i) for i in np.unravel_index(np.argmax(magnitude), magnitude.shape)],
        "fraction_abs_outside_mask": float(magnitude[~mask].sum() / magnitude.sum()),
        "fraction_energy_outside_mask": float(energy[~mask].sum() / energy.sum()),
        "asymmetry_lr_ud_transpose": [
            float(np.linalg.norm(flipped - magnitude) / np.linalg.norm(magnitude))
            for flipped in (magnitude[:, ::-1], magnitude[::-1, :], magnitude.T)
        ],
    }
    for label, normalise, scale in (
        ("normalized_ps4", normalize_probe, 4.0),
        ("normalized_ps10", normalize_probe, 10.0),
        ("normalized_ps4_study_era", normalize_probe_study_era, 4.0),
    ):
        probe, norm = normalise(probe_raw, scale, mask)
        stats[label] = _magnitude_stats(np.abs(probe).astype(np.float64)) | {"norm_factor": norm}
    ideal_energy = np.sum(np.abs(ideal).astype(np.float64) ** 2)
    stats["energy_ratio_to_ideal_ps10"] = stats["normalized_ps4"]["energy"] / float(ideal_energy)
    return _rounded(stats)


def sidecar_json(probe_raw: np.ndarray) -> str:
    """The JSON sidecar text: generator parameters plus `custom_probe_statistics`, sorted keys."""
    record = {
        "name": "custom_synth_v1",
        "key": PROBE_KEY,
        "shape": list(probe_raw.shape),
        "dtype": str(probe_raw.dtype),
        "parameters": {
            "pupil_radius": PUPIL_RADIUS, "edge_width": EDGE_WIDTH, "obstruction": OBSTRUCTION,
            "defocus_rad": DEFOCUS, "astigmatism_rad": ASTIGMATISM, "astigmatism_angle_rad": ASTIGMATISM_ANGLE,
            "coma_rad": COMA, "coma_angle_rad": COMA_ANGLE, "target_masked_mean": TARGET_MASKED_MEAN,
        },
        "statistics": custom_probe_statistics(probe_raw),
    }
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def write_fixture(directory: Path = FIXTURE_DIR) -> tuple[Path, Path]:
    """Regenerate custom_synth_v1 and write its .npz and .json into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    probe_raw = custom_synth_v1()
    npz_path = directory / FIXTURE_NPZ.name
    json_path = directory / FIXTURE_JSON.name
    npz_path.write_bytes(probe_npz_bytes(probe_raw))
    json_path.write_text(sidecar_json(probe_raw), encoding="utf-8")
    return npz_path, json_path


def _magnitude_stats(magnitude: np.ndarray) -> dict:
    return {
        "max": float(magnitude.max()),
        "min": float(magnitude.min()),
        "mean": float(magnitude.mean()),
        "std": float(magnitude.std()),
        "l2": float(np.sqrt(np.sum(magnitude**2))),
        "energy": float(np.sum(magnitude**2)),
    }


def _rounded(value):
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    if isinstance(value, float):
        return float(f"{value:.{_STAT_DIGITS}g}")
    return value


def main(argv: list[str] | None = None) -> int:
    """CLI: `--write` regenerates fixtures/probes/custom_synth_v1.{npz,json}."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.physics.custom_probe", description=__doc__)
    parser.add_argument("--write", action="store_true", help="regenerate the fixture files")
    parser.add_argument("--dir", type=Path, default=FIXTURE_DIR, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.write:
        parser.print_help()
        return 1
    for path in write_fixture(args.dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
