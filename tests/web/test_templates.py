"""The one HTML renderer: every value escaped in one place, nothing left blank, every template ships."""

from importlib import resources
from string import Template

import pytest

from web.templates import Html, render


def test_values_are_escaped_and_rendered_fragments_are_not() -> None:
    inner = render("message.html", title="<b>Jo & \"Co\"</b>", text="it's")
    assert inner == "<h1>&lt;b&gt;Jo &amp; &quot;Co&quot;&lt;/b&gt;</h1><p>it&#x27;s</p>"
    assert isinstance(inner, Html)
    outer = render("error.html", text=inner)  # already Html: inserted as is, not escaped twice
    assert outer == f'<div class="error" role="alert">{inner}</div>'


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        render("message.html", title="only the title")


def test_every_template_loads_without_line_breaks_or_stray_dollars() -> None:
    names = [f.name for f in resources.files("web.templates").iterdir() if f.name.endswith(".html")]
    assert len(names) > 20
    for name in names:
        text = resources.files("web.templates").joinpath(name).read_text(encoding="utf-8")
        assert Template(text).is_valid(), name
        values = {key: "x" for key in Template(text).get_identifiers()}
        assert "\n" not in render(name, **values)
