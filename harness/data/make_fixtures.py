"""Write the small data files of fixtures/data with the project's own physics: `python -m harness.data.make_fixtures`.

`lines.npz` (PtychoPINN NPZ) and `lines.h5` (ptychodus product + `dp`) hold the same 60 patterns (not 64, so the legacy (H, W, n)
order is unambiguous) of
a 128-pixel lines object under the ideal probe at 1e9 photons; `lines_legacy.npz` stores them the
way older files do: `diffraction` as (H, W, n), `xcoords_start`/`ycoords_start`, and pickled entries
(an `objectGuess` of None, a `_metadata` dict) that a reader must skip, never unpickle.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from harness.data.formats import write_dataset
from harness.store import atomic_write_bytes
from pipelines.physics import forward
from pipelines.physics.objects import lines_object
from pipelines.physics.patches import bilinear_patches
from pipelines.physics.probe import ideal_probe_raw, normalize_probe, probe_mask
from pipelines.physics.scan import uniform_positions

FOLDER = Path(__file__).resolve().parents[2] / "fixtures" / "data"
COUNT, OBJECT_SIZE, NPHOTONS, SEED = 60, 128, 1e9, 12


def simulated() -> dict[str, np.ndarray | float]:
    """60 noisy patterns as sim_lines simulates them (spec 3.5.3), amplitudes as sqrt(counts)."""
    rs = np.random.RandomState(SEED)
    obj = lines_object(rs, OBJECT_SIZE)
    positions = uniform_positions(rs, COUNT, OBJECT_SIZE, OBJECT_SIZE, buffer=32.0)
    raw = ideal_probe_raw(64)
    probe, _ = normalize_probe(raw, 4.0, probe_mask(64))
    y_obj = bilinear_patches(obj, positions, 64)
    s_sim = forward.photon_scale(NPHOTONS, float(forward.exit_energy(y_obj, probe).mean()))
    diffraction, _ = forward.simulate_diffraction(y_obj, probe, s_sim, np.random.default_rng(SEED))
    return {"probe": raw, "positions": positions, "amplitude": diffraction.astype(np.float64) * s_sim,
            "obj": obj, "nphotons": NPHOTONS}


def legacy_npz(data: dict, path: Path) -> None:
    """The older NPZ layout with pickled entries (written with pickling on purpose: readers must skip them)."""
    arrays = {"diffraction": np.moveaxis(data["amplitude"], 0, -1).astype(np.float32),
              "xcoords_start": data["positions"][:, 0], "ycoords_start": data["positions"][:, 1],
              "probeGuess": data["probe"], "scan_index": np.zeros(COUNT, dtype=np.int64),
              "objectGuess": np.array(None, dtype=object), "_metadata": np.array({"source": "make_fixtures"}, dtype=object)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def main() -> None:
    data = simulated()
    for name in ("lines.npz", "lines.h5"):
        write_dataset(FOLDER / name, "auto", probe=data["probe"], positions=data["positions"],
                      amplitude=data["amplitude"], obj=data["obj"], nphotons=data["nphotons"])
    legacy_npz(data, FOLDER / "lines_legacy.npz")
    for path in sorted(FOLDER.iterdir()):
        print(f"{path} {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
