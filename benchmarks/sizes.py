"""Benchmark sizes: the generator's workspace plus how many queries each figure samples.

S, M and L use the demo generator's own SIZES (warmintro.demo.model.SIZES); XS is a micro size for the
harness test. `index_emails` caps how many emails the embed/retrieval figures put in the vector store
(None = all of them): embedding is CPU-bound (~170 emails/s on 2 quiet cores with the int8 index model), so
every size indexes a stated subset: L's 20,000 of 100,000 keep the whole L run under 15 minutes (all
100,000 take ~10 minutes more: `--size L --index-emails 100000`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Size:
    name: str
    generator: dict[str, Any]
    champions: int  # targets: champions timed
    queries: int  # who_knows: companies/domains timed
    naive_contacts: int | None  # scan baseline: contacts in the naive loop's sample (None = all)
    naive_seconds: float  # ... and a time cap for it (the sample stops early, extrapolated)
    scan_repeats: int
    index_emails: int | None
    retrieval_queries: int
    drafts: int
    slack_rounds: int  # rounds of 50 concurrent events
    # cold start (fig_coldstart): the demo's accounts (None: the generator's, at most 300), the warm samples
    # beside each cold one, and how long slack_load keeps the load on
    cold_accounts: int | None = None
    warm_repeats: int = 5
    load_seconds: float = 20.0
    notes: list[str] = field(default_factory=list)


def _gen(name: str) -> dict[str, Any]:
    from warmintro.demo.model import SIZES

    return dict(SIZES[name])


def get_size(name: str) -> Size:
    name = name.upper()
    if name == "XS":
        return Size("XS", {"accounts": 30, "people": 600, "ties": 1_500, "emails": 300, "usage_rows": None},
                    champions=5, queries=5, naive_contacts=None, naive_seconds=20, scan_repeats=1,
                    index_emails=100, retrieval_queries=10, drafts=2, slack_rounds=1, cold_accounts=30,
                    warm_repeats=3, load_seconds=5.0)
    if name == "S":
        return Size("S", _gen("S"), champions=30, queries=30, naive_contacts=None, naive_seconds=60, scan_repeats=3,
                    index_emails=1_000, retrieval_queries=100, drafts=10, slack_rounds=4,
                    cold_accounts=30, warm_repeats=3, load_seconds=5.0)  # the quick run: each figure, smaller
    if name == "M":
        return Size("M", _gen("M"), champions=100, queries=60, naive_contacts=1_500, naive_seconds=90,
                    scan_repeats=3, index_emails=5_000, retrieval_queries=200, drafts=20, slack_rounds=10)
    if name == "L":
        return Size("L", _gen("L"), champions=200, queries=100, naive_contacts=2_000, naive_seconds=150,
                    scan_repeats=2, index_emails=20_000, retrieval_queries=300, drafts=20, slack_rounds=10)
    raise ValueError(f"unknown size {name!r}: XS, S, M or L")


SIZE_NAMES = ("XS", "S", "M", "L")
