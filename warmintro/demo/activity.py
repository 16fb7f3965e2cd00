"""Product usage (usage.csv): a year of events per contact, following their persona, vectorised with
numpy and written with polars in chunks.

Two parts. The *core* covers the 95 days before as_of, cell by cell (contact x day x event), because
that is what the personas engine (90 days) and the scan's activity rules (4 weeks, 30 days) read:
  - power users: active on ~85% of weekdays, feature_used / workflow_completed / report_shared;
  - product users: ~30% of weekdays, mostly logins and features;
  - administrators: ~30% of weekdays, integration_configured / admin_settings_changed / user_invited
    making about half of their events;
  - economic buyers: a login now and then.
Every user-type contact is active on days 2, 9, 16 and 23 before as_of (one day in each of the four
weeks), and every economic buyer logs in once in the last 25 days, unless a scenario says otherwise
(an account gap, a contact gone idle, an account not yet live or already churned). Nothing is written
for as_of's own day.
The *history* (96-365 days before as_of) is sampled row by row, so its size can be set exactly: the
file has exactly `usage_rows` rows when that is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import numpy as np
import polars as pl

from warmintro.demo.model import PERSONAS, World

EVENTS = ("login", "feature_used", "workflow_completed", "report_shared", "integration_configured",
          "admin_settings_changed", "user_invited")
CORE_DAYS = 95
HISTORY_END = 365
HEARTBEAT = (2, 9, 16, 23)
# persona order: economic_buyer, product_user, power_user, administrator
P_ACTIVE = np.array([[0.015, 0.0], [0.30, 0.03], [0.85, 0.12], [0.30, 0.03]])  # [weekday, weekend]
Q_EVENT = np.array([
    [1.0, 0.1, 0.0, 0.05, 0.0, 0.0, 0.0],
    [0.95, 0.6, 0.12, 0.05, 0.0, 0.0, 0.0],
    [0.7, 0.9, 0.65, 0.35, 0.0, 0.0, 0.0],
    [0.85, 0.3, 0.05, 0.0, 0.3, 0.45, 0.25],
])
LAM = np.array([
    [0.3, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.5, 1.5, 0.3, 0.0, 0.0, 0.0, 0.0],
    [1.0, 4.0, 2.0, 0.6, 0.0, 0.0, 0.0],
    [0.5, 1.0, 0.0, 0.0, 0.6, 1.5, 1.0],
])
HISTORY_RATE = np.array([0.01, 0.12, 0.6, 0.2])  # default rows per day of history
CHUNK_CONTACTS = 2_000
CHUNK_ROWS = 1_000_000
HEADER = ("account_id", "contact_email", "event", "occurred_at", "count")


@dataclass
class UsagePlan:
    persona: np.ndarray
    account: np.ndarray
    start_off: np.ndarray  # usage allowed on days <= start_off before as_of (customer since)
    stop_off: np.ndarray  # ... and >= stop_off (churned accounts stop)
    gap_lo: np.ndarray
    gap_hi: np.ndarray
    idle: np.ndarray  # no usage on days 1..idle


def plan_usage(world: World) -> UsagePlan:
    T = world.as_of
    n = len(world.contacts)
    persona = np.zeros(n, dtype=np.int64)
    account = np.zeros(n, dtype=np.int64)
    start_off = np.zeros(n, dtype=np.int64)
    stop_off = np.ones(n, dtype=np.int64)
    gap_lo = np.zeros(n, dtype=np.int64)
    gap_hi = np.full(n, -1, dtype=np.int64)
    idle = np.zeros(n, dtype=np.int64)
    for c in world.contacts:
        a = world.accounts[c.account]
        i = c.index
        persona[i] = PERSONAS.index(c.persona)
        account[i] = a.index
        start_off[i] = (T - a.customer_since).days
        if a.churned_at is not None:
            stop_off[i] = max(1, (T - a.churned_at).days)
        if a.gap:
            gap_lo[i], gap_hi[i] = a.gap
        idle[i] = c.idle_days
    return UsagePlan(persona, account, start_off, stop_off, gap_lo, gap_hi, idle)


def _frame(world: World, acc_ids: pl.Series, emails: pl.Series, account_of: np.ndarray, contact: np.ndarray,
           event: np.ndarray, off: np.ndarray, seconds: np.ndarray, count: np.ndarray) -> pl.DataFrame:
    base = (world.as_of.date() - date(1970, 1, 1)).days * 86_400
    when = base - off.astype(np.int64) * 86_400 + seconds.astype(np.int64)
    ci = pl.Series(contact)
    acc = pl.Series(account_of[contact])
    return pl.DataFrame({
        "account_id": acc_ids.gather(acc), "contact_email": emails.gather(ci),
        "event": pl.Series(EVENTS).gather(pl.Series(event)),
        "occurred_at": pl.from_epoch(pl.Series(when), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": pl.Series(count),
    })


def write_usage(world: World, fh: BinaryIO, rng: np.random.Generator, usage_rows: int | None) -> int:
    """Write usage.csv rows (no header) and return how many were written."""
    plan = plan_usage(world)
    acc_ids = pl.Series([a.account_id for a in world.accounts])
    emails = pl.Series([c.email for c in world.contacts])
    n = len(world.contacts)
    days = np.arange(1, CORE_DAYS + 1)
    weekday0 = world.as_of.date().weekday()
    weekend = ((weekday0 - days) % 7) >= 5
    heartbeat = np.isin(days, HEARTBEAT)
    core = 0
    for lo in range(0, n, CHUNK_CONTACTS):
        idx = np.arange(lo, min(n, lo + CHUNK_CONTACTS))
        p = plan.persona[idx]
        d = days[None, :]
        allowed = (d <= plan.start_off[idx, None]) & (d >= plan.stop_off[idx, None]) & (d > plan.idle[idx, None])
        allowed &= ~((d >= plan.gap_lo[idx, None]) & (d <= plan.gap_hi[idx, None]))
        prob = np.where(weekend[None, :], P_ACTIVE[p, 1][:, None], P_ACTIVE[p, 0][:, None])
        active = rng.random((len(idx), CORE_DAYS)) < prob
        active |= heartbeat[None, :] & (p[:, None] > 0)
        buyer_day = rng.integers(3, 26, len(idx))
        active |= (d == buyer_day[:, None]) & (p[:, None] == 0)
        active &= allowed
        ci, di = np.nonzero(active)
        pc = p[ci]
        present = rng.random((len(ci), len(EVENTS))) < Q_EVENT[pc]
        present[:, 0] |= ~present.any(axis=1)
        cell, ev = np.nonzero(present)
        count = 1 + rng.poisson(LAM[pc[cell], ev])
        seconds = 7 * 3600 + rng.integers(0, 12 * 3600, len(cell))
        frame = _frame(world, acc_ids, emails, plan.account, idx[ci[cell]], ev, days[di[cell]], seconds, count)
        frame.write_csv(fh, include_header=False)
        core += frame.height
    lo_day = np.maximum(CORE_DAYS + 1, plan.stop_off)
    hi_day = np.minimum(HISTORY_END, plan.start_off)
    span = np.maximum(0, hi_day - lo_day + 1)
    weight = HISTORY_RATE[plan.persona] * span
    if usage_rows is None:
        history = int(round(weight.sum()))
    else:
        history = usage_rows - core
        if history < 0:
            raise ValueError(f"usage_rows={usage_rows:,} is below the {core:,} rows the last {CORE_DAYS} days "
                             "of persona usage need; ask for more rows or fewer accounts")
    if history and weight.sum() == 0:
        weight = np.ones(n)  # nobody has a year of history: spread over the core window instead
        lo_day, span = np.ones(n, dtype=np.int64), np.full(n, CORE_DAYS)
    per_contact = rng.multinomial(history, weight / weight.sum()) if history else np.zeros(n, dtype=np.int64)
    q = Q_EVENT * (1 + LAM)
    cum = np.cumsum(q / q.sum(axis=1, keepdims=True), axis=1)
    written = 0
    start = 0
    ends = np.cumsum(per_contact)
    while start < n and written < history:
        stop = int(np.searchsorted(ends, written + CHUNK_ROWS, side="right"))
        stop = max(stop, start + 1)
        idx = np.arange(start, min(stop, n))
        contact = np.repeat(idx, per_contact[idx])
        k = len(contact)
        if k:
            off = lo_day[contact] + np.floor(rng.random(k) * span[contact]).astype(np.int64)
            u = rng.random(k)
            ev = (u[:, None] > cum[plan.persona[contact]]).sum(axis=1).clip(0, len(EVENTS) - 1)
            count = 1 + rng.poisson(LAM[plan.persona[contact], ev])
            seconds = 7 * 3600 + rng.integers(0, 12 * 3600, k)
            _frame(world, acc_ids, emails, plan.account, contact, ev, off, seconds, count).write_csv(fh, include_header=False)
        written += k
        start = int(idx[-1]) + 1
    return core + written
