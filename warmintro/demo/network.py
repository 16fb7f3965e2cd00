"""The network at scale: people, their 2-4 jobs and the background ties, generated with numpy and written
with polars in chunks (a million people never exist as Python objects).

People are laid out company by company, so one chunk of people covers whole companies and email
addresses can be made unique inside a chunk. Background ties are drawn per range of the first person
(`a`), so duplicates can only occur inside a chunk, where they are removed before writing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import numpy as np
import polars as pl

from warmintro.demo.model import Company, Tie, World
from warmintro.demo.names import (
    CITIES,
    FIRST_NAMES,
    FIRST_SLUGS,
    FUNCTION_WEIGHTS,
    FUNCTIONS,
    LAST_NAMES,
    LAST_SLUGS,
    OTHER_CITIES,
    SENIORITIES,
    SENIORITY_WEIGHTS,
    TITLES,
)
from warmintro.demo.people import EMPLOYMENT_HEADER, PEOPLE_HEADER

CHUNK_PEOPLE = 200_000
CHUNK_TIES = 250_000
EPOCH = date(1970, 1, 1)
TIE_KINDS = ("email", "linkedin", "meeting", "coworker")
TIE_KIND_P = (0.45, 0.3, 0.15, 0.1)

_TITLE_FLAT: list[str] = []
_TITLE_OFF = np.zeros((len(FUNCTIONS), len(SENIORITIES)), dtype=np.int64)
_TITLE_CNT = np.zeros((len(FUNCTIONS), len(SENIORITIES)), dtype=np.int64)
for _f, _fn in enumerate(FUNCTIONS):
    for _s, _sn in enumerate(SENIORITIES):
        _TITLE_OFF[_f, _s] = len(_TITLE_FLAT)
        _TITLE_CNT[_f, _s] = len(TITLES[_fn][_sn])
        _TITLE_FLAT.extend(TITLES[_fn][_sn])
TITLE_SERIES = pl.Series(_TITLE_FLAT)
FIRST_SERIES = pl.Series([f for f, _ in FIRST_NAMES])
LAST_SERIES = pl.Series(list(LAST_NAMES))
FIRST_SLUG_SERIES = pl.Series(list(FIRST_SLUGS))
LAST_SLUG_SERIES = pl.Series(list(LAST_SLUGS))
SEN_SERIES = pl.Series(list(SENIORITIES))
FUNC_SERIES = pl.Series(list(FUNCTIONS))
ALL_CITIES = pl.Series([f"{c}, {k}" for c, k in (*CITIES, *OTHER_CITIES)])


@dataclass
class Network:
    emails: pl.Series  # person id -> email
    first: np.ndarray  # index into FIRST_NAMES
    last: np.ndarray  # index into LAST_NAMES
    company: np.ndarray  # index into the companies list
    seniority: np.ndarray  # index into SENIORITIES
    function: np.ndarray  # index into FUNCTIONS

    @property
    def size(self) -> int:
        return len(self.emails)

    def name(self, i: int) -> tuple[str, str, str]:
        first, gender = FIRST_NAMES[int(self.first[i])]
        return first, LAST_NAMES[int(self.last[i])], gender


def _titles(rng: np.random.Generator, func: np.ndarray, sen: np.ndarray) -> np.ndarray:
    return _TITLE_OFF[func, sen] + np.floor(rng.random(len(func)) * _TITLE_CNT[func, sen]).astype(np.int64)


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def write_network(world: World, companies: list[Company], n: int, people_fh: BinaryIO, employment_fh: BinaryIO,
                  rng: np.random.Generator) -> Network:
    """Write n network people (people.csv rows) and their jobs (employment.csv rows)."""
    if n <= 0 or not companies:
        e = np.zeros(0, dtype=np.int64)
        return Network(pl.Series([], dtype=pl.String), e, e, e, e, e)
    nc = len(companies)
    co_name = pl.Series([c.name for c in companies])
    co_domain = pl.Series([c.domain for c in companies])
    co_industry = pl.Series([c.industry for c in companies])
    co_size = pl.Series([c.employees for c in companies], dtype=pl.Int64)
    co_loc = pl.Series([c.location for c in companies])
    w = np.array([c.employees for c in companies], dtype=np.float64) ** 0.6
    per_company = rng.multinomial(n, w / w.sum())
    company = np.repeat(np.arange(nc), per_company)
    today = (world.as_of.date() - EPOCH).days
    fw = np.array(FUNCTION_WEIGHTS) / sum(FUNCTION_WEIGHTS)
    sw = np.array(SENIORITY_WEIGHTS) / sum(SENIORITY_WEIGHTS)
    first_all = rng.integers(0, len(FIRST_NAMES), n)
    last_all = rng.integers(0, len(LAST_NAMES), n)
    func_all = rng.choice(len(FUNCTIONS), n, p=fw)
    sen_all = rng.choice(len(SENIORITIES), n, p=sw)
    emails: list[pl.Series] = []
    # chunk boundaries on company edges
    ends = np.cumsum(per_company)
    lo = 0
    while lo < n:
        hi_company = int(np.searchsorted(ends, lo + CHUNK_PEOPLE, side="left"))
        hi = int(ends[min(hi_company, nc - 1)])
        hi = max(hi, lo + 1)
        idx = np.arange(lo, hi)
        comp, first, last = company[idx], first_all[idx], last_all[idx]
        func, sen = func_all[idx], sen_all[idx]
        k = len(idx)
        title = _titles(rng, func, sen)
        own_city = rng.random(k) < 0.8
        city_idx = rng.integers(0, len(ALL_CITIES), k)
        has_li = rng.random(k) < 0.6
        ci = pl.Series(comp)
        df = pl.DataFrame({
            "comp": ci,
            "fs": FIRST_SLUG_SERIES.gather(first), "ls": LAST_SLUG_SERIES.gather(last),
            "name": FIRST_SERIES.gather(first) + " " + LAST_SERIES.gather(last),
            "company": co_name.gather(ci), "domain": co_domain.gather(ci),
            "title": TITLE_SERIES.gather(title), "seniority": SEN_SERIES.gather(sen),
            "function": FUNC_SERIES.gather(func), "industry": co_industry.gather(ci),
            "company_employees": co_size.gather(ci),
            "own_city": pl.Series(own_city),
            "city": ALL_CITIES.gather(city_idx), "own_loc": co_loc.gather(ci),
            "li": pl.Series(has_li), "n": pl.Series(idx),
        })
        local = pl.col("fs") + "." + pl.col("ls")
        df = df.with_columns(local.alias("local")).with_columns(
            pl.int_range(pl.len()).over("comp", "local").alias("rank"))
        df = df.with_columns(
            (pl.when(pl.col("rank") > 0).then(pl.col("local") + (pl.col("rank") + 1).cast(pl.String))
             .otherwise(pl.col("local")) + "@" + pl.col("domain")).alias("email"),
            pl.when(pl.col("own_city")).then(pl.col("own_loc")).otherwise(pl.col("city")).alias("location"),
            pl.when(pl.col("li")).then(
                pl.lit("https://www.linkedin.com/in/") + pl.col("fs") + "-" + pl.col("ls") + "-"
                + ((pl.col("n") * 7919 + 100_003) % 9_000_000 + 1_000_000).cast(pl.String)
            ).alias("linkedin_url"),
        )
        df.select(PEOPLE_HEADER).write_csv(people_fh, include_header=False)
        emails.append(df["email"])
        _write_jobs(df["email"], comp, func, sen, title, today, nc, co_name, co_domain, employment_fh, rng)
        lo = hi
    return Network(pl.concat(emails), first_all, last_all, company, sen_all, func_all)


def _write_jobs(email: pl.Series, comp: np.ndarray, func: np.ndarray, sen: np.ndarray, title: np.ndarray,
                today: int, nc: int, co_name: pl.Series, co_domain: pl.Series, fh: BinaryIO,
                rng: np.random.Generator) -> None:
    k = len(comp)
    njobs = rng.choice(np.array([2, 3, 4]), k, p=[0.35, 0.4, 0.25])
    person = [np.arange(k)]
    order = [np.zeros(k, dtype=np.int64)]
    comps, titles = [comp], [title]
    start = today - rng.integers(60, 3600, k)
    starts, ends = [start], [np.full(k, -1, dtype=np.int64)]
    s = sen.copy()
    for j in range(1, 4):
        end = start - rng.integers(0, 90, k)
        start = end - rng.integers(300, 1900, k)
        c = rng.integers(0, nc, k)
        c = np.where(c == comp, (c + 1) % nc, c)
        s = np.maximum(0, s - (rng.random(k) < 0.5))
        mask = njobs > j
        person.append(np.arange(k)[mask])
        order.append(np.full(int(mask.sum()), j))
        comps.append(c[mask])
        titles.append(_titles(rng, func[mask], s[mask]))
        starts.append(start[mask])
        ends.append(end[mask])
    p, o = np.concatenate(person), np.concatenate(order)
    sort = np.lexsort((o, p))
    p = p[sort]
    c_idx = pl.Series(np.concatenate(comps)[sort])
    end_all = np.concatenate(ends)[sort]
    df = pl.DataFrame({
        "email": email.gather(pl.Series(p)), "company": co_name.gather(c_idx), "domain": co_domain.gather(c_idx),
        "title": TITLE_SERIES.gather(np.concatenate(titles)[sort]),
        "start": _dates(np.concatenate(starts)[sort]),
        "end": _dates(np.where(end_all < 0, 0, end_all)),
    }).with_columns(pl.when(pl.Series(end_all < 0)).then(None).otherwise(pl.col("end")).alias("end"))
    df.select(EMPLOYMENT_HEADER).write_csv(fh, include_header=False)


def team_ties(world: World, net: Network, r: random.Random) -> list[Tie]:
    """Investors, advisors and partners know executives; AEs and SDRs are connected on LinkedIn."""
    out: list[Tie] = []
    if net.size == 0:
        return out
    today = world.as_of.date()
    senior = np.nonzero(net.seniority >= 2)[0]
    pool = senior if len(senior) else np.arange(net.size)
    emails = net.emails

    def pick(k: int) -> list[int]:
        return sorted({int(pool[r.randrange(len(pool))]) for _ in range(k)})

    per_role = {"investor": ("investor", 25), "advisor": ("advisor", 15), "partner": ("partner", 15),
                "ae": ("linkedin", 30), "sdr": ("linkedin", 30)}
    members = [(m.email, m.role) for m in world.team]
    members += [(p.contact_email, "partner") for p in world.partners
                if p.kind != "investor" and all(p.contact_email != m.email for m in world.team)]
    for email, role in members:
        if role not in per_role:
            continue
        kind, k = per_role[role]
        for i in pick(k):
            first = date.fromordinal(today.toordinal() - r.randint(60, 2000))
            if kind == "linkedin":
                out.append(Tie(email, emails[i], kind, None, first, None))
            else:
                last = date.fromordinal(today.toordinal() - r.randint(1, max(2, (today - first).days)))
                out.append(Tie(email, emails[i], kind, float(r.randint(1, 9)), first, last))
    return out


def write_background_ties(world: World, fh: BinaryIO, net: Network, contact_emails: list[str], n_rows: int,
                          rng: np.random.Generator) -> int:
    """n_rows random ties among network people and (non-champion) contacts, with locality: most ties
    link people laid out near each other (same or neighbouring company)."""
    n_net = net.size
    pool = pl.concat([net.emails, pl.Series(contact_emails, dtype=pl.String)])
    m = len(pool)
    if n_rows <= 0 or m < 2:
        return 0
    today = (world.as_of.date() - EPOCH).days
    kinds = pl.Series(TIE_KINDS)
    written = 0
    lo = 0
    while lo < m and written < n_rows:
        hi = min(m, lo + CHUNK_TIES)
        need = n_rows - written if hi == m else round(n_rows * (hi - lo) / m)
        keys = np.zeros(0, dtype=np.int64)
        while len(keys) < need:
            k = int((need - len(keys)) * 1.2) + 16
            a = rng.integers(lo, hi, k)
            local = rng.random(k) < 0.6
            off = rng.integers(1, 40, k) * np.where(rng.random(k) < 0.5, -1, 1)
            near = np.where(a < n_net, np.clip(a + off, 0, max(n_net - 1, 0)), rng.integers(0, max(n_net, 1), k))
            b = np.where(local & (n_net > 1), near, rng.integers(0, m, k))
            kind = rng.choice(len(TIE_KINDS), k, p=TIE_KIND_P)
            ok = a != b
            new = ((a * m + b) * 4 + kind)[ok]
            allk = np.concatenate([keys, new])
            _, first_idx = np.unique(allk, return_index=True)
            keys = allk[np.sort(first_idx)]
        keys = keys[:need]
        kind = keys % 4
        ab = keys // 4
        a, b = ab // m, ab % m
        k = len(keys)
        first = today - rng.integers(30, 2900, k)
        span = today - 1 - first
        last = first + np.floor(rng.random(k) * np.maximum(span, 0)).astype(np.int64)
        co_last = np.minimum(first + rng.integers(90, 1500, k), today - 1)
        last = np.where(kind == 3, co_last, last)
        weight = np.where(kind == 0, np.minimum(80, 1 + rng.geometric(0.12, k)),
                          np.where(kind == 2, np.minimum(20, 1 + rng.geometric(0.35, k)), -1))
        df = pl.DataFrame({
            "a_email": pool.gather(pl.Series(a)), "b_email": pool.gather(pl.Series(b)),
            "kind": kinds.gather(pl.Series(kind)), "weight": pl.Series(weight),
            "first_at": _dates(first), "last_at": _dates(last), "is_li": pl.Series(kind == 1),
        }).with_columns(
            pl.when(pl.col("weight") < 0).then(None).otherwise(pl.col("weight")).alias("weight"),
            pl.when(pl.col("is_li")).then(None).otherwise(pl.col("last_at")).alias("last_at"),
        )
        df.select("a_email", "b_email", "kind", "weight", "first_at", "last_at").write_csv(fh, include_header=False)
        written += k
        lo = hi
    return written
