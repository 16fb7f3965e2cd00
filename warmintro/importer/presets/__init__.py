"""CRM export presets and calendar files: translate a CRM's own export (HubSpot, Salesforce) and `.ics`
calendar exports into the contract's files, so the contract importer validates and loads them.

`translate()` writes the translated files (accounts.csv, contacts.csv, opportunities.csv, meetings.csv)
into a temporary folder and remembers, for every translated row, the CRM file, record and column it came
from; `Translation.remap()` turns the importer's problems back into the CRM file's own lines and headers.
docs/crm-presets.md describes the mapping rules.
"""

from __future__ import annotations

from warmintro.importer.presets.base import PRESET_NAMES, Translation, translate

__all__ = ["PRESET_NAMES", "Translation", "translate"]
