"""Slack mrkdwn as terminal text: what the agent writes for Slack, read in `warmintro chat`.

    *bold* -> bold, _italic_ -> italic, ~strike~ -> struck, `code` -> as is
    <https://x|label> -> "label (https://x)", <mailto:a@b?...|label> -> "label", <https://x> -> the url,
    <@U123> -> "@U123", &lt; &gt; &amp; -> < > &, "> " quotes -> an indented bar

Styles are dropped when the output is not a terminal (rich does that), so piped output is plain text.
"""

from __future__ import annotations

import re

from rich.text import Text

__all__ = ["to_terminal"]

_LINK = re.compile(r"<(?P<url>(?:https?|mailto):[^|>]+)(?:\|(?P<label>[^>]*))?>")
_MENTION = re.compile(r"<([@#!])([^|>]+)(?:\|([^>]*))?>")
_STYLE = re.compile(r"(?<![\w*_~])([*_~])(?=\S)(.+?)(?<=\S)\1(?![\w*_~])")
_STYLES = {"*": "bold", "_": "italic", "~": "strike"}


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(m: re.Match[str]) -> str:
    url, label = m.group("url"), m.group("label")
    if url.startswith("mailto:"):
        return label or url.split("?", 1)[0][len("mailto:"):]
    return f"{label} ({url})" if label and label != url else url


def _line(line: str) -> Text:
    quoted = line.startswith(">")
    if quoted:
        line = line[1:].lstrip(" ")
    line = _LINK.sub(_link, line)
    line = _MENTION.sub(lambda m: m.group(3) or f"{m.group(1) if m.group(1) != '!' else '@'}{m.group(2)}", line)
    out = Text("  │ " if quoted else "")
    pos = 0
    for m in _STYLE.finditer(line):
        out.append(_unescape(line[pos:m.start()]))
        out.append(_unescape(m.group(2)), style=_STYLES[m.group(1)])
        pos = m.end()
    out.append(_unescape(line[pos:]))
    return out


def to_terminal(text: str) -> Text:
    """The mrkdwn `text` as rich Text (styles, links spelled out, quotes indented)."""
    return Text("\n").join(_line(ln) for ln in text.split("\n"))
