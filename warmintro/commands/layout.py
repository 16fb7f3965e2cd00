"""Listings that stay readable at any width: a table when every column fits, else one record per block.

A rich Table squeezed into 80 columns (a terminal, or a pipe, where rich assumes 80) wraps free text one
word per line and cuts ids, emails and amounts with "…" — values other commands then need in full. Here
each column says what it holds: `key` values (ids, emails, amounts, dates) are never cut or wrapped,
`short` ones (a stage, a count) are never wrapped, `text` wraps. The table is drawn only when the key and
short columns fit whole beside a readable text column; otherwise each row becomes a block — a head line,
the short values on one wrapped line, each text value below — wrapped between words only, so an email
or id is never split.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

Kind = Literal["key", "short", "text"]
# A cell: its text, or (table text, block text) when a table cell's lines read better joined in a block.
Cell = str | tuple[str, str]

MIN_TEXT_WIDTH = 28  # narrower than this, free text wraps a word or two per line: use blocks instead
INDENT = "   "


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "short"
    justify: Literal["left", "right"] = "left"


def person(name: str | None, email: str) -> tuple[str, str]:
    """A person cell: name over email in a table, "Name <email>" in a block."""
    return (f"{name}\n{email}", f"{name} <{email}>") if name else (email, email)


def _table_text(cell: Cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


def _block_text(cell: Cell) -> str:
    return cell[1] if isinstance(cell, tuple) else ", ".join(x for x in cell.split("\n") if x)


def _needed(col: Column, cells: list[str]) -> int:
    longest = max([len(line) for c in cells for line in c.split("\n")] + [len(col.header)])
    return longest if col.kind != "text" else min(longest, MIN_TEXT_WIDTH)


def fits(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> bool:
    """Whether a boxed table with every key and short column whole (and text columns readable) fits."""
    need = sum(_needed(col, [_table_text(r[i]) for r in rows]) for i, col in enumerate(columns))
    return need + 3 * len(columns) + 1 <= width


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    lines: list[str] = []
    for i, para in enumerate(text.split("\n")):
        lines += textwrap.wrap(para, width=max(20, width), initial_indent=first if i == 0 else rest,
                               subsequent_indent=rest, break_long_words=False, break_on_hyphens=False) or [first]
    return lines


def _pack(items: list[str], width: int, indent: str = INDENT) -> list[str]:
    """Items joined by " · " on indented lines, a line break only between items (a long one wraps alone)."""
    lines: list[str] = []
    line = ""
    for item in items:
        joined = f"{line} · {item}" if line else indent + item
        if len(joined) <= width or not line:
            line = joined
            continue
        lines.append(line)
        line = indent + item
    if line:
        lines.append(line)
    return [w for x in lines for w in (_wrap(x.strip(), width, indent, indent) if len(x) > width else [x])]


def print_records(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *,
                  title: str | None = None, head: int = 0, numbered: bool = False, show_lines: bool = False) -> None:
    """Print rows as a table when it fits `console`'s width, else as blocks (module docstring). `head`: the
    column that opens each block; `numbered`: number the blocks (the table gets a "#" column)."""
    cols = [Column("#", "short", "right"), *columns] if numbered else list(columns)
    body = [[str(i), *r] for i, r in enumerate(rows, 1)] if numbered else [list(r) for r in rows]
    width = console.width
    if fits(cols, body, width):
        table = Table(title=title, show_lines=show_lines)
        for i, col in enumerate(cols):
            cells = [_table_text(r[i]) for r in body]
            if col.kind == "text":
                table.add_column(col.header, justify=col.justify, overflow="fold", ratio=1,
                                 min_width=_needed(col, cells))
            else:
                table.add_column(col.header, justify=col.justify, no_wrap=True, min_width=_needed(col, cells))
        for r in body:
            table.add_row(*(_table_text(c) for c in r))
        console.print(table)
        return
    if title:
        console.print(Text(title, style="bold"), soft_wrap=True)
    h = head + (1 if numbered else 0)
    # Numbers right-aligned and every block's lines indented past them: " 9." and "10." line up.
    digits = len(str(len(body)))
    indent = " " * (digits + 2) if numbered else INDENT
    for n, r in enumerate(body):
        lead = f"{r[0]:>{digits}}. " if numbered else ""
        lines = _wrap(_block_text(r[h]), width, lead, indent)
        inline = [f"{col.header}: {_block_text(r[i])}" for i, col in enumerate(cols)
                  if col.kind != "text" and i != h and not (numbered and i == 0) and _block_text(r[i])]
        if inline:
            lines += _pack(inline, width, indent)
        for i, col in enumerate(cols):
            value = _block_text(r[i]) if col.kind != "text" else _table_text(r[i])
            if col.kind == "text" and i != h and value:
                lines += _wrap(f"{col.header}: {value}", width, indent, indent + "  ")
        console.print(Text("\n".join(lines)), soft_wrap=True)
        if show_lines and n < len(body) - 1:
            console.print()


def print_lines(console: Console, lines: Sequence[str]) -> None:
    """Plain lines wrapped between words at the console's width (continuations indented), never cut."""
    wrapped: list[str] = []
    for line in lines:
        lead = line[: len(line) - len(line.lstrip())]
        wrapped += _wrap(line.strip(), console.width, lead, lead + "  ")
    console.print(Text("\n".join(wrapped)), soft_wrap=True)
