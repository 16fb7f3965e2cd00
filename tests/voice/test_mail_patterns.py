"""The combined line patterns of clean_body match exactly where one of their parts matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from warmintro import mail

CRAFTED = [
    "-----Original Message-----", "  original message ", "---------- Forwarded message ---------", "> Begin forwarded message:",
    "Weitergeleitete Nachricht", "DISCLAIMER this is legal", "disclaimer this is legal", "Disclaimer: https://x.co",
    "Disclaimer: I think so", "CONFIDENTIALITY NOTICE: x", "Confidentiality - y", "This email and any attachments are",
    "The information contained in this message", "If you have received this email in error", "Sent from my iPhone",
    "sent from my iphone 12", "Envoyé de mon iPad", "Get Outlook for iOS", "Sent with ProtonMail", "Sent via my own van",
    "[[alternative HTML version deleted]]", "[[elided Yahoo spam]]", "PLEASE do read the posting guide", "Hello there",
    "", "   ", "To unsubscribe from this group, send", "You received this message because you are subscribed to",
]


def _corpus_lines(limit: int = 20_000) -> list[str]:
    root = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    lines: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".txt", ".eml", ".mbox", ".jsonl", ".json") and path.stat().st_size < 50_000_000:
            with path.open(encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    lines.append(line.rstrip("\n"))
                    if len(lines) >= limit:
                        return lines
    return lines


@pytest.mark.parametrize(("combined", "parts"), [(mail._CUT_ANY, mail._CUT_MARKERS), (mail._REMOVE_ANY, mail._REMOVE_LINES)])
def test_combined_line_pattern_is_any_of_its_parts(combined, parts):
    lines = CRAFTED + _corpus_lines()
    hits = 0
    for line in lines:
        expected = any(p.match(line) for p in parts)
        assert (combined.match(line) is not None) == expected, line
        hits += expected
    assert hits >= 5
