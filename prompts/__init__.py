"""Prompts as files. `load(name)` reads one; nothing is read at import time."""

from __future__ import annotations

from pathlib import Path

DIR = Path(__file__).parent


def load(name: str) -> str:
    return (DIR / name).read_text(encoding="utf-8")
