"""The pages' templates, CSS and JS as files, shipped as package data and read once.

`render(name, **values)` fills an HTML template (`string.Template`: `$name` placeholders, no logic; the
Python view decides what to show and passes fragments rendered from smaller templates). Every value is
HTML-escaped here, in this one place, unless it is already `Html` (another template's output, or a constant
the view wrote). A missing value or a stray `$` is an error, never a blank. Line breaks in an .html file are
for reading only and are dropped when it loads: write a space where the page needs one.
"""

from __future__ import annotations

import functools
import html
from importlib import resources
from string import Template


class Html(str):
    """Markup that is safe to insert as is: rendered by `render`, or a constant fragment in the code."""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@functools.cache
def template(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _html_template(name: str) -> Template:
    return Template(template(name).replace("\n", ""))


def render(name: str, /, **values: object) -> Html:
    safe = {key: value if isinstance(value, Html) else esc(value) for key, value in values.items()}
    return Html(_html_template(name).substitute(safe))


def join(fragments: list[Html]) -> Html:
    return Html("".join(fragments))
