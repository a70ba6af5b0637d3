"""Artifact store: per side and stage an `.npz` of arrays plus a `.json` record; a content-keyed cache.

Writes are atomic (temporary name, then rename); loads never unpickle; every file's checksum is
recorded, so a truncated or corrupt artifact is detected and recomputed, never trusted.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import platform
import shutil
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from harness.errors import StageContractError
from harness.records import PipelineSpec
from harness.summary import array_record, remember_stored

STORE_SCHEMA = 1
"""Bumped whenever the on-disk layout or key recipe changes, so old cache entries are never reused."""

TEMPORARY_MARK = ".tmp-"
"""Part of every temporary file name (`.<name>.tmp-<pid>`), so leftovers can be found and removed."""

HARNESS_MODULES_IN_KEY = ("seeding.py", "context.py", "device.py", "store.py", "data/dataset.py", "data/npz.py",
                          "data/hdf5.py", "data/formats.py", "data/variant.py")
"""Harness modules whose code shapes a stage's outputs (streams, knobs, device setup, capture, data files read)."""

LIBRARIES_IN_KEY = {"numpy": ("numpy",), "scipy": ("scipy",), "tensorflow": ("tensorflow", "tensorflow-cpu")}
"""Libraries whose version can change a stage's bits, with the distribution names they ship under."""

KNOB_FILE_PREFIX = "file:"
"""A knob value `file:PATH` names a file: its content, not only its path, joins the stage key."""


def temporary_name(path: Path) -> Path:
    """The temporary sibling a write goes to before it is renamed onto `path` (unique per process)."""
    return path.with_name(f".{path.name}{TEMPORARY_MARK}{os.getpid()}")


def remove_temporaries(folder: Path, pid: int) -> None:
    """Remove what a process that ended abruptly left under temporary names in `folder`."""
    for leftover in Path(folder).glob(f".*{TEMPORARY_MARK}{pid}"):
        leftover.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write bytes under a temporary name in the same folder, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_json(path: Path, payload: Any) -> None:
    atomic_write_bytes(path, (json.dumps(payload, indent=1, default=to_jsonable, allow_nan=True) + "\n").encode())


def to_jsonable(value: Any) -> Any:
    """numpy scalars and arrays inside JSON values become plain Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def array_sha256(array: np.ndarray) -> str:
    """Content hash of an array: dtype, shape and C-order bytes (independent of the file format)."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    flat = array.reshape(-1).view(np.uint8) if array.size else np.empty(0, np.uint8)
    for start in range(0, flat.size, 1 << 26):
        digest.update(memoryview(flat[start : start + (1 << 26)]))
    return digest.hexdigest()


def value_sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=to_jsonable).encode()).hexdigest()


def artifact_sha256(value: Any) -> str:
    """The checksum a stage record holds for one artifact: an array, a list of arrays, or a value."""
    if isinstance(value, np.ndarray):
        return array_sha256(value)
    if isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
        return hashlib.sha256("".join(array_sha256(v) for v in value).encode()).hexdigest()
    return value_sha256(value)


def code_files(pipeline: PipelineSpec) -> set[Path]:
    """The code a stage's outputs depend on: the pipeline's packages and the harness modules stages
    call into (`HARNESS_MODULES_IN_KEY`).

    A stage defined in a single-file module (a `-p file.py` plugin) contributes that file only.
    """
    here = Path(__file__).parent
    files: set[Path] = {here / name for name in HARNESS_MODULES_IN_KEY}
    for stage in pipeline.stages:
        module = sys.modules.get(stage.func.__module__)
        source = Path(getattr(module, "__file__", "") or "")
        if not source.is_file():
            continue
        package = (getattr(module, "__package__", "") or "").split(".")[0]
        if package:
            root = source.parent
            for _ in range(stage.func.__module__.count(".")):
                root = root.parent
            files.update((root / package).rglob("*.py"))
        else:
            files.add(source)
    return files


def code_hash(pipeline: PipelineSpec) -> str:
    """Hash of `code_files`: any change to them recomputes the pipeline's stages."""
    digest = hashlib.sha256()
    for path in sorted(code_files(pipeline)):
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def stage_key(
    *,
    pipeline: str,
    code: str,
    scenario: str,
    profile: str,
    run_seed: int,
    stage: str,
    knobs: Mapping[str, Any],
    upstream: Mapping[str, str],
    environment: Mapping[str, Any] | None = None,
) -> str:
    """Cache key of one stage: everything that can change its outputs, and nothing else.

    Besides the arguments: the library versions (`LIBRARIES_IN_KEY`) and the content of every file
    a knob names (`file:PATH`).
    """
    recipe = {
        "libraries": library_versions_in_key(),
        "knob_files": knob_file_digests(knobs),
        "schema": STORE_SCHEMA,
        "pipeline": pipeline,
        "code": code,
        "scenario": scenario,
        "profile": profile,
        "run_seed": run_seed,
        "stage": stage,
        "knobs": dict(sorted(knobs.items())),
        "upstream": dict(sorted(upstream.items())),
        "environment": dict(sorted((environment or {}).items())),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=to_jsonable).encode()).hexdigest()


@lru_cache(maxsize=1)
def library_versions_in_key() -> dict[str, str]:
    """Installed versions of the libraries in `LIBRARIES_IN_KEY`, read without importing them."""
    versions = {"python": platform.python_version()}
    for library, distributions in LIBRARIES_IN_KEY.items():
        versions[library] = next((version for name in distributions if (version := _distribution_version(name))), "absent")
    return versions


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def knob_file_digests(knobs: Mapping[str, Any]) -> dict[str, str]:
    """SHA-256 of each file a knob value names as `file:PATH` ("missing" when it cannot be read)."""
    digests = {}
    for name, value in sorted(knobs.items()):
        if isinstance(value, str) and value.startswith(KNOB_FILE_PREFIX):
            try:
                digests[name] = file_sha256(Path(value[len(KNOB_FILE_PREFIX):]))
            except OSError:
                digests[name] = "missing"
    return digests


def capture_outputs(stage: str, declared: Iterable[str], outputs: Any) -> dict[str, Any]:
    """Check outputs against the declared names and capture them by value (copies, no tensors)."""
    if not isinstance(outputs, Mapping):
        raise StageContractError(f"stage {stage!r} returned {type(outputs).__name__}, expected a mapping of outputs")
    declared = tuple(declared)
    missing = [name for name in declared if name not in outputs]
    extra = [name for name in outputs if name not in declared]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing outputs {missing}")
        if extra:
            parts.append(f"undeclared outputs {extra}")
        raise StageContractError(f"stage {stage!r}: {'; '.join(parts)} (declared: {list(declared)})")
    return {name: _capture(stage, name, outputs[name]) for name in declared}


def _capture(stage: str, name: str, value: Any) -> Any:
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    if isinstance(value, np.generic):
        return np.array(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            raise StageContractError(f"stage {stage!r}: output {name!r} is an object array; store numbers or strings")
        return _in_stored_layout(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
        return [_copy_in_stored_layout(v) for v in value]
    try:
        json.dumps(value, default=to_jsonable, allow_nan=True)
    except TypeError as exc:
        raise StageContractError(f"stage {stage!r}: output {name!r} cannot be stored: {exc}") from None
    return json.loads(json.dumps(value, default=to_jsonable, allow_nan=True))


def _in_stored_layout(value: np.ndarray) -> np.ndarray:
    """The array as later stages must see it: owned, and in the memory order the store gives back.

    An array the stage made owns its memory and nothing else refers to it: it is kept as it is. Views
    (of inputs or of module state) are copied, so later changes cannot reach the artifact. An array in
    neither C nor Fortran order (a transposed result) is made C-ordered, the order it is stored and
    loaded in: reductions such as einsum round differently on other orders, and a later stage must get
    the same bits whether its input comes from this run or from the store (a cache hit, a replay).
    """
    stored_order = value.flags.c_contiguous or value.flags.f_contiguous
    return value if value.flags.owndata and value.flags.writeable and stored_order else _copy_in_stored_layout(value)


def _copy_in_stored_layout(value: np.ndarray) -> np.ndarray:
    """A copy in Fortran order when the array is Fortran-ordered, else in C order (as np.save writes it)."""
    return np.array(value, order="A", copy=True)


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for module in ("numpy", "scipy", "tensorflow", "keras"):
        if module in sys.modules:
            versions[module] = getattr(sys.modules[module], "__version__", "unknown")
    return versions


class _HashingSink(io.RawIOBase):
    """A write-only stream that hashes the bytes it passes on to `handle`. It cannot seek, so zipfile writes
    the archive front to back (sizes in data descriptors) and the digest is the file's: no read-back."""

    def __init__(self, handle: Any):
        super().__init__()
        self.handle = handle
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.handle.write(data)


class StageFiles:
    """The two files of one stage in one folder: `<stage>.npz` and `<stage>.json`."""

    def __init__(self, folder: Path, stage: str):
        self.folder = Path(folder)
        self.stage = stage
        self.npz = self.folder / f"{stage}.npz"
        self.json = self.folder / f"{stage}.json"

    def read_record(self) -> dict[str, Any] | None:
        """The stage's JSON record, or None when missing or unreadable."""
        try:
            return json.loads(self.json.read_text())
        except (OSError, ValueError):
            return None

    def is_intact(self, record: Mapping[str, Any]) -> bool:
        """Whether the npz still has the checksum recorded when it was written."""
        expected = record.get("npz_sha256")
        if expected is None:
            return not self.npz.exists()
        return self.npz.is_file() and file_sha256(self.npz) == expected

    def write(self, outputs: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
        """Persist captured outputs atomically; the JSON is written last, so it marks completeness."""
        arrays: dict[str, np.ndarray] = {}
        artifacts: dict[str, Any] = {}
        for name, value in outputs.items():
            if isinstance(value, np.ndarray):
                arrays[name] = value
                artifacts[name] = {"kind": "array", "sha256": array_sha256(value), **array_record(value)}
            elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
                for index, item in enumerate(value):
                    arrays[f"{name}#{index}"] = item
                artifacts[name] = {"kind": "arrays", "count": len(value), "sha256": artifact_sha256(value),
                                   "shapes": [list(v.shape) for v in value]}
            else:
                artifacts[name] = {"kind": "value", "value": value, "sha256": value_sha256(value)}
        record = dict(meta)
        record.update(schema=STORE_SCHEMA, stage=self.stage, artifacts=artifacts, versions=_library_versions())
        if arrays:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = temporary_name(self.npz)
            try:
                with open(tmp, "wb") as handle:
                    sink = _HashingSink(handle)
                    np.savez(sink, **arrays)
                os.replace(tmp, self.npz)
            finally:
                tmp.unlink(missing_ok=True)
            record["npz_sha256"] = sink.digest.hexdigest()
        else:
            self.npz.unlink(missing_ok=True)
            record["npz_sha256"] = None
        atomic_write_json(self.json, record)
        return record

    def write_failure(self, meta: Mapping[str, Any]) -> None:
        """Record an error or skip for the report; no arrays are kept."""
        self.npz.unlink(missing_ok=True)
        atomic_write_json(self.json, {**meta, "schema": STORE_SCHEMA, "stage": self.stage})

    def load(self, record: Mapping[str, Any], names: Iterable[str] | None = None) -> dict[str, Any]:
        """Load the stage's artifacts, or only `names` (each array is read on its own; never unpickling)."""
        artifacts = record.get("artifacts", {})
        if names is not None:
            artifacts = {name: artifacts[name] for name in names}
        wanted = {key for name, info in artifacts.items()
                  for key in ([name] if info["kind"] == "array" else
                              [f"{name}#{i}" for i in range(info.get("count", 0))] if info["kind"] == "arrays" else [])}
        arrays: dict[str, np.ndarray] = {}
        if record.get("npz_sha256") and wanted:
            with np.load(self.npz, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files if key in wanted}
        out: dict[str, Any] = {}
        for name, info in artifacts.items():
            if info["kind"] == "array":
                out[name] = arrays[name]
                remember_stored(out[name], info)
            elif info["kind"] == "arrays":
                out[name] = [arrays[f"{name}#{i}"] for i in range(info["count"])]
            else:
                out[name] = info["value"]
        return out

    def link_from(self, other: "StageFiles") -> None:
        """Make this folder's files copies of another's (hard links when possible), atomically."""
        for source, target in ((other.npz, self.npz), (other.json, self.json)):
            if not source.exists():
                target.unlink(missing_ok=True)
            elif not _same_file(source, target):
                _link_atomically(source, target)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths are already the same file (then there is nothing to link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _link_atomically(source: Path, target: Path) -> None:
    """Hard-link (else copy) `source` to a temporary name and rename it onto `target`.

    The temporary name is removed in every case: renaming onto a link of the same file is a no-op
    that leaves the temporary in place (POSIX rename), as a concurrent run can make it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copy2(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class StageCache:
    """Cache entries by stage key under one folder: `<root>/<key[:2]>/<key>/<stage>.{npz,json}`."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def files(self, key: str, stage: str) -> StageFiles:
        return StageFiles(self.root / key[:2] / key, stage)

    def lookup(self, key: str, stage: str) -> tuple[StageFiles, dict[str, Any]] | None:
        """The entry's files and record when one was completed for this key; integrity is checked by the caller."""
        files = self.files(key, stage)
        record = files.read_record()
        if record is None or record.get("key") != key or record.get("status") != "ok":
            return None
        return files, record


def default_cache_dir() -> Path:
    """HARNESS_CACHE_DIR, else ~/.cache/ptycho-harness."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ptycho-harness"
