"""Prompts as files, shipped as package data. `load(name)` reads one (e.g. "system.md", "roles/csm.md");
nothing is read at import time."""

from __future__ import annotations

from importlib import resources


def load(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
