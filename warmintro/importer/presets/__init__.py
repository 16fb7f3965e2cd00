"""CRM export presets and calendar files: translate a CRM's own export (HubSpot, Salesforce) and `.ics`
calendar exports into the contract's files, so the contract importer validates and loads them.

`translate()` writes the translated files (accounts.csv, contacts.csv, opportunities.csv, meetings.csv)
into a temporary folder and remembers, for every translated row, the CRM file, record and column it came
from; `Translation.remap()` turns the importer's problems back into the CRM file's own lines and headers.
docs/crm-presets.md describes the mapping rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warmintro.importer.presets import calendar, crm
from warmintro.importer.presets.base import PRESET_NAMES, AddIssue, Translation
from warmintro.importer.validate import ImportIssue

__all__ = ["PRESET_NAMES", "Translation", "translate"]


def translate(folder: Path, entries: dict[str, Path], preset: str | None, program: dict[str, Any] | None,
              store_people: list[tuple[str, str]], store_domains: dict[str, str], add: AddIssue,
              warnings: list[str]) -> Translation:
    """Translate a preset's CRM files and any `.ics` calendars; the caller must `cleanup()` the result."""
    t = Translation(dict(entries))

    def add_direct(issue: ImportIssue) -> None:
        t.direct.append(issue)
        add(issue)

    try:
        if preset is not None:
            crm.translate_crm(t, preset, program, store_people, add_direct, warnings)
        calendar.translate_calendars(t, store_domains, add_direct, warnings)
    except BaseException:
        t.cleanup()
        raise
    return t
