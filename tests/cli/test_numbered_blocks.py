"""Blocks in a narrow console: numbered blocks line up past their number, whatever its width."""

from __future__ import annotations

import io

from rich.console import Console

from warmintro.commands.layout import Column, print_records


def _blocks(n: int) -> list[str]:
    console = Console(file=io.StringIO(), width=60, color_system=None)
    columns = [Column("who", "key"), Column("account", "key"), Column("why", "text")]
    rows = [[f"person{i}@example.com", f"ACC-{i:04d}", "a sentence long enough to wrap onto a second line of its own"]
            for i in range(1, n + 1)]
    print_records(console, columns, rows, numbered=True)
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def test_numbered_blocks_indent_past_a_two_digit_number():
    lines = _blocks(12)
    heads = [ln for ln in lines if ln.lstrip()[:1].isdigit()]
    assert heads[0].startswith(" 1. person1@") and heads[9].startswith("10. person10@")
    body = [ln for ln in lines if ln and ln not in heads]
    fields = [ln for ln in body if ln.lstrip().startswith(("account:", "why:"))]
    assert len(fields) == 24 and all(ln.startswith("    ") and ln[4] != " " for ln in fields)
    wrapped = [ln for ln in body if ln not in fields]
    assert len(wrapped) == 12 and all(ln.startswith("      ") and ln[6] != " " for ln in wrapped)


def test_fewer_than_ten_blocks_keep_a_three_space_indent():
    lines = _blocks(3)
    assert lines[0].startswith("1. person1@") and lines[1].startswith("   account: ACC-0001")
