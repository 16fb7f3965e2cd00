"""Column parsing shortcuts give exactly what the general parse gives."""

from __future__ import annotations

import random

import polars as pl

from warmintro.importer.validate import parse_datetime, parse_datetimes

TRICKY = [
    "2026-11-23T12:26:36Z", "2026-11-23T12:26:36z", "2026-11-23 12:26:36Z", "2026-11-23T12:26:36", "2026-11-23",
    "2026-02-30", "2026-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2026-13-01T00:00:00Z", "2026-11-23T24:00:00Z",
    "2026-11-23T23:59:60Z", "2026-11-23T12:26:36.5Z", "2026-11-23T12:26:36+02:00", "2026-11-23T12:26Z",
    "2026-11-23T12:26", "2026-1-3", "2026-01-3T01:02:03Z", "0000-01-01", "9999-12-31T23:59:59Z", "20261123",
    "2026-11-23TT12:26:36Z", "2026-11-23T12:26:36ZZ", "٢٠٢٦-١١-٢٣", "2026-11-23\n", "tomorrow", "", None,
    "2026-11-23T12:26:36-00:00", "2026-11-23 12:26:36.123456", "2026-11-23T12:26:36.1234567Z",
]


def _reference(values: list[str | None]) -> list[int | None]:  # microseconds: year 0 has no Python datetime
    return pl.DataFrame({"v": pl.Series(values, dtype=pl.String)}).select(parse_datetime(pl.col("v")))["v"].cast(pl.Int64).to_list()


def test_parse_datetimes_matches_parse_datetime():
    rng = random.Random(3)
    values = TRICKY + [rng.choice(TRICKY) for _ in range(500)]
    for i in range(300):  # random well-formed values of both fast shapes, some of them impossible dates
        day = f"{rng.randint(1990, 2030):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}"
        values.append(day if i % 2 else f"{day}T{rng.randint(0, 25):02d}:{rng.randint(0, 60):02d}:{rng.randint(0, 61):02d}Z")
    got = parse_datetimes(pl.Series("v", values, dtype=pl.String)).cast(pl.Int64).to_list()
    assert got == _reference(values)
    assert any(v is None for v in got) and any(v is not None for v in got)
