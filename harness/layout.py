"""Tables that read well where they land: boxed when they fit the console, compact rows otherwise.

A table wider than the console (80 columns in a CI log or pipe unless COLUMNS says otherwise)
is not squeezed into narrow cells wrapped a word per line: each row becomes one line of its
narrow cells, with the widest cells as indented `name: text` lines below it.
"""
from __future__ import annotations

import textwrap
from typing import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

Cell = str | Text
INDENT = "    "
GAP = "  "


def print_rows(console: Console, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """Print `rows` under `header` as a boxed table when it fits `console.width`, else compactly."""
    cells = [[cell if isinstance(cell, Text) else Text(str(cell)) for cell in row] for row in rows]
    widths = [max([len(name)] + [row[i].cell_len for row in cells]) for i, name in enumerate(header)]
    if boxed_width(widths) <= console.width:
        console.print(boxed(title, header, cells))
    else:
        print_compact(console, title, header, cells, widths)


def boxed_width(widths: Sequence[int]) -> int:
    """Width of a rich table with these column widths: one space of padding each side, one rule between."""
    return sum(widths) + 3 * len(widths) + 1


def boxed(title: str, header: Sequence[str], cells: list[list[Text]]) -> Table:
    table = Table(title=title)
    for name in header:
        table.add_column(name, no_wrap=True)
    for row in cells:
        table.add_row(*row)
    return table


def head_columns(widths: Sequence[int], width: int) -> list[int]:
    """Columns kept on a row's line: all but the widest (never the first) until the line fits `width`."""
    kept = list(range(len(widths)))
    while len(kept) > 1 and sum(widths[i] for i in kept) + len(GAP) * (len(kept) - 1) > width:
        kept.remove(max(kept[1:], key=lambda i: widths[i]))
    return kept


def print_compact(console: Console, title: str, header: Sequence[str], cells: list[list[Text]], widths: Sequence[int]) -> None:
    """Each row as one line of its narrow cells, its wide cells below as indented `name: text` lines."""
    kept = head_columns(widths, console.width)
    below = [i for i in range(len(header)) if i not in kept]
    console.print(Text(title, style="bold"))
    console.print(_line([Text(header[i], style="bold") for i in kept], [widths[i] for i in kept]))
    for row in cells:
        console.print(_line([row[i] for i in kept], [widths[i] for i in kept]))
        for i in below:
            if row[i].plain.strip():
                console.print(Text("\n".join(_wrapped(f"{header[i]}: {row[i].plain}", console.width))), soft_wrap=True)


def _line(cells: Sequence[Text], widths: Sequence[int]) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for index, (cell, width) in enumerate(zip(cells, widths)):
        line.append_text(cell)
        if index < len(cells) - 1:
            line.append(" " * (width - cell.cell_len) + GAP)
    return line


def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=max(20, width), initial_indent=INDENT, subsequent_indent=INDENT * 2,
                         break_long_words=False, break_on_hyphens=False) or [INDENT]
