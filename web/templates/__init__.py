"""The pages' static parts as files (CSS, JS), shipped as package data and read once."""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def template(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
