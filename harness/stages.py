"""The canonical stage vocabulary: the join key between the two sides of every diff."""
from __future__ import annotations

from harness.errors import UsageError

STAGES: tuple[str, ...] = (
    "config",
    "probe",
    "object",
    "scan",
    "simulate",
    "split",
    "group",
    "normalize",
    "scale",
    "train",
    "infer",
    "stitch",
    "evaluate",
)

_POSITION = {name: index for index, name in enumerate(STAGES)}


def stage_index(name: str) -> int:
    """Position of a stage in canonical order; unknown names list the valid ones."""
    try:
        return _POSITION[name]
    except KeyError:
        raise UsageError(f"unknown stage {name!r}; valid stages: {', '.join(STAGES)}") from None


def parse_stage_selection(text: str) -> tuple[str, ...]:
    """Turn `all`, a name, a comma list or a range `a..b` into the stages to run up to.

    The runner always runs a prefix of the pipeline: the result is every canonical stage up to and
    including the latest stage named, because later stages need the earlier ones' artifacts.
    """
    text = text.strip()
    if text in ("", "all"):
        return STAGES
    wanted: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if ".." in part:
            first, _, last = part.partition("..")
            lo = stage_index(first.strip()) if first.strip() else 0
            hi = stage_index(last.strip()) if last.strip() else len(STAGES) - 1
            if lo > hi:
                raise UsageError(f"empty stage range {part!r}: {first} comes after {last}")
            wanted.extend(STAGES[lo : hi + 1])
        else:
            stage_index(part)
            wanted.append(part)
    return tuple(name for name in STAGES if name in wanted)


def stages_to_run(selection: tuple[str, ...]) -> tuple[str, ...]:
    """Every canonical stage up to the latest selected one (the prefix the runner executes)."""
    last = max(stage_index(name) for name in selection)
    return STAGES[: last + 1]
