"""Text helpers every renderer shares: truncation, value formatting, Markdown escaping, numpy to JSON.

One helper per idea, here rather than in a reporter, so reporters (built-in or a plugin's) import
the helpers and the typed report model (`harness.report`), never each other.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

ELLIPSIS = "…"


def truncate(text: Any, width: int) -> str:
    """`text` as a string of at most `width` characters, ending in an ellipsis when it was cut."""
    text = str(text)
    return text if len(text) <= width else text[: max(0, width - 1)] + ELLIPSIS


def plain(value: Any, max_items: int | None = None) -> Any:
    """A JSON-able copy: numpy scalars as numbers, arrays as lists, complex numbers as [re, im].

    With `max_items`, an array larger than that becomes the text `array(shape)`, so a summary
    never carries a whole tensor.
    """
    if isinstance(value, np.ndarray):
        if max_items is not None and value.size > max_items:
            return f"array{tuple(value.shape)}"
        return value.item() if value.ndim == 0 else plain(value.tolist(), max_items)
    if isinstance(value, np.generic):
        return plain(value.item(), max_items)
    if isinstance(value, complex):
        return [value.real, value.imag]
    if isinstance(value, Mapping):
        return {str(k): plain(v, max_items) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, max_items) for v in value]
    return value


def fmt(value: Any, width: int = 80) -> str:
    """A measured, expected or tolerance value in a few characters (`—` for none)."""
    if value is None:
        return "—"
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return truncate(json.dumps(plain(value), default=str, separators=(",", ":")), width)


def tail(text: str | None, lines: int = 15) -> str:
    """The last `lines` lines of a traceback, with an ellipsis line when some were dropped."""
    kept = (text or "").rstrip().splitlines()
    return "\n".join(([ELLIPSIS] if len(kept) > lines else []) + kept[-lines:])


def markdown_inline(text: Any) -> str:
    """Text safe in a Markdown line: `<` would open an HTML tag that renderers drop."""
    return str(text).replace("<", "&lt;")


def markdown_cell(text: Any) -> str:
    """Text safe in one Markdown table cell: escaped pipes, no line breaks, never empty."""
    return markdown_inline(text).replace("|", "\\|").replace("\n", " ").strip() or " "
