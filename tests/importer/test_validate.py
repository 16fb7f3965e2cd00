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


def _check(spec_columns, values: dict[str, list[str | None]]) -> list[tuple[int, str, str]]:
    from warmintro.importer.schema import FileSpec
    from warmintro.importer.validate import ROW, validate_batch

    spec = FileSpec("x.csv", "accounts", spec_columns)
    n = len(next(iter(values.values())))
    raw = pl.DataFrame({ROW: pl.Series(range(n), dtype=pl.UInt32), **{k: pl.Series(v, dtype=pl.String) for k, v in values.items()}})
    _parsed, errors = validate_batch(raw, spec, set(values))
    return [(r, c, reason) for r, c, reason in errors.iter_rows()]


def test_the_first_failing_check_gives_the_reason_and_rows_list_columns_in_file_order():
    from warmintro.importer.schema import C

    # accounts.name is VARCHAR(256) and accounts.csm_email VARCHAR(320): the store's limits apply.
    columns = (C("name", req=True), C("csm_email", "email"), C("employees", "int", lo=0, hi=100))
    got = _check(columns, {
        "name": ["  ", "ok", "x" * 300, "a\x00" + "x" * 300, "fine", "fine", "fine", "fine"],
        "csm_email": ["nope", "a@b.co", "  A@B.CO ", "x" * 400, "a\x00@b.co", None, "", "b@c.de"],
        "employees": ["5", "1.5", "-1", "101", "1e999", "abc", " 7 ", "-2.5"],
    })
    assert got == [
        (0, "name", "required value is empty"),
        (0, "csm_email", "not an email address: nope"),
        (1, "employees", "not a whole number: 1.5"),
        (2, "name", "longer than 256 characters: " + "x" * 40 + "..."),
        (2, "employees", "below the minimum 0: -1"),
        (3, "name", "contains a NUL byte (binary data, not text)"),  # NUL wins over too long
        (3, "csm_email", "longer than 320 characters: " + "x" * 40 + "..."),  # too long wins over not an email
        (3, "employees", "above the maximum 100: 101"),
        (4, "csm_email", "contains a NUL byte (binary data, not text)"),
        (4, "employees", "not a whole number: 1e999"),
        (5, "employees", "not a whole number: abc"),
        (7, "employees", "not a whole number: -2.5"),  # not whole wins over below the minimum
    ]


def test_a_clean_batch_has_no_errors_and_its_values_are_cleaned():
    from warmintro.importer.schema import C, FileSpec
    from warmintro.importer.validate import ROW, validate_batch

    spec = FileSpec("x.csv", "accounts", (C("name", req=True), C("csm_email", "email"), C("employees", "int", default=1)))
    raw = pl.DataFrame({ROW: pl.Series([0, 1], dtype=pl.UInt32), "name": [" Kite ", "Lark"],
                        "csm_email": [" Ann@Kite.COM", ""], "employees": ["", " 12 "]})
    parsed, errors = validate_batch(raw, spec, {"name", "csm_email", "employees"})
    assert errors.height == 0 and errors.columns == [ROW, "column", "reason"]
    assert parsed.to_dicts() == [{ROW: 0, "name": "Kite", "csm_email": "ann@kite.com", "employees": 1},
                                 {ROW: 1, "name": "Lark", "csm_email": None, "employees": 12}]
