"""Cadence under faults: the invariant (<= 3 asks per champion per 365 days, >= 90 days apart, a 180-day
cool-down after a decline) holds for every history the write path accepts.

1. Pure rules at volume: hypothesis generates ask histories (attempt times at day or second resolution,
   back-dated and out of order, exact 90/180/365-day boundaries, mixed outcomes); only what
   `write_reasons` accepts is kept, and the kept history is checked by an independent checker written
   here (not the product's `history_violations`, which is checked too).
2. The real store write path (`record_ask`, then `record_outcome` declines) on SQLite and PostgreSQL,
   on a sample of generated histories.
3. Concurrent writers: several OS processes (multiprocessing, spawn) race `record_ask` for the same
   champions on each database, released together by a barrier.
4. Several bot processes running the scheduler at the same moment: each daily digest
   (`slackapp.digest.send_daily_digests`) and each referral notice (`slackapp.notices.send_due_notices`)
   is posted once (counted at a mock Slack Web API on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evals.faults import FaultContext

BASE = datetime(2024, 1, 1, tzinfo=UTC)
DAY = 86400
ROOT = Path(__file__).resolve().parents[2]


def root_on_path() -> None:
    """The repository root on sys.path (slackapp and agent are not installed packages), in worker processes too."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------------------------------------------
# Databases: a fresh SQLite file, or a fresh PostgreSQL schema (dropped afterwards), per use


@contextlib.contextmanager
def fresh_database(ctx: FaultContext, url: str, name: str) -> Iterator[str]:
    """A URL for an empty database of the same kind as `url`."""
    if url.startswith("sqlite"):
        yield ctx.sqlite_url(f"{name}-{uuid.uuid4().hex[:6]}")
        return
    from warmintro.testing.databases import postgres_schema

    with postgres_schema(url, f"f_{name.replace('-', '_')}") as db:
        yield db


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


# ---------------------------------------------------------------------------------------------------
# An independent checker of the invariant (deliberately not the product's code)


def independent_violations(asks: Sequence[tuple[datetime, str | None]], *, per_year: int = 3, gap_days: int = 90,
                           cooldown_days: int = 180) -> int:
    """How many ways a history breaks the invariant: any two asks less than 90 days apart, any 365-day window
    holding more than 3 asks, any ask less than 180 days after a declined one."""
    times = sorted((t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC), o) for t, o in asks)
    bad = 0
    for i, (t, _o) in enumerate(times):
        for u, uo in times[:i]:
            if t - u < timedelta(days=gap_days):
                bad += 1
            if uo == "declined" and t - u < timedelta(days=cooldown_days):
                bad += 1
        if sum(1 for u, _ in times[: i + 1] if t - u < timedelta(days=365)) > per_year:
            bad += 1
    return bad


# ---------------------------------------------------------------------------------------------------
# 1. The pure rules at volume


def _attempts_strategy() -> Any:
    from hypothesis import strategies as st

    outcome = st.sampled_from(["accepted", "declined", "no_response", "pending", None])
    boundary = st.sampled_from([89, 90, 91, 179, 180, 181, 364, 365, 366, 0, 270, 273, 455]).map(lambda d: d * DAY)
    offset = st.one_of(
        st.integers(min_value=0, max_value=3 * 365).map(lambda d: d * DAY),  # whole days
        st.integers(min_value=0, max_value=3 * 365 * DAY),  # any second
        boundary,  # exact rule boundaries from the base
        st.tuples(st.integers(0, 2 * 365), boundary, st.integers(-2, 2)).map(lambda x: x[0] * DAY + x[1] + x[2]),
    )
    return st.lists(st.tuples(offset, outcome), min_size=1, max_size=14)


def pure_rules(n: int, seed: int) -> dict[str, int]:
    from hypothesis import HealthCheck, given, settings

    from warmintro.engines.cadence import PastAsk, cadence_reasons, history_violations, write_reasons
    from warmintro.program import Rules

    rules = Rules()
    counts = Counter()

    @settings(max_examples=n, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(_attempts_strategy())
    def check(tries: list[tuple[int, str | None]]) -> None:
        counts["histories"] += 1
        history: list[PastAsk] = []
        for off, outcome in tries:
            counts["attempts"] += 1
            at = BASE + timedelta(seconds=max(0, off))
            if not write_reasons(history, at, rules, outcome):
                history.append(PastAsk(at, outcome))
                counts["accepted"] += 1
        if history_violations(history, rules) or independent_violations([(a.asked_at, a.outcome) for a in history]):
            counts["violations"] += 1
        # the scan's view: an ask the scan allows now, appended to a valid past, keeps it valid
        probe = BASE + timedelta(seconds=max(0, tries[-1][0]) + 91 * DAY)
        past = [a for a in history if a.asked_at <= probe]
        if not cadence_reasons(past, probe, rules) and independent_violations(
                [(a.asked_at, a.outcome) for a in past] + [(probe, None)]):
            counts["violations"] += 1

    check()
    return {"histories": counts["histories"], "attempts": counts["attempts"], "accepted": counts["accepted"],
            "violations": counts["violations"]}


# ---------------------------------------------------------------------------------------------------
# 2. The real write path, sequentially


def store_write_path(url: str, n: int, seed: int) -> dict[str, int]:
    from hypothesis import HealthCheck, given, settings

    from warmintro.engines.cadence import CadenceViolation, record_ask, record_outcome
    from warmintro.program import Rules
    from warmintro.store import models as m
    from warmintro.store.db import Store

    rules = Rules()
    store = Store.open(url)
    counts = Counter()
    try:
        @settings(max_examples=n, database=None, derandomize=True, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(_attempts_strategy())
        def check(tries: list[tuple[int, str | None]]) -> None:
            from sqlalchemy import select

            counts["histories"] += 1
            email = f"champ{counts['histories']}@store.example"
            ids: list[int] = []
            for off, outcome in tries:
                at = BASE + timedelta(seconds=max(0, off))
                try:
                    ids.append(record_ask(store, rules, contact_email=email, asked_at=at, outcome=outcome or "pending"))
                except CadenceViolation:
                    counts["refused"] += 1
            for ask_id in ids[::2]:  # a later decline of an accepted ask: refused when it would break the rules
                with contextlib.suppress(CadenceViolation):
                    record_outcome(store, rules, ask_id, "declined")
            with store.session() as s:
                rows = s.execute(select(m.Ask.asked_at, m.Ask.outcome).where(m.Ask.contact_email == email)).all()
            if independent_violations([(a, o) for a, o in rows]):
                counts["violations"] += 1

        check()
    finally:
        store.close()
    return {"histories": counts["histories"], "violations": counts["violations"]}


# ---------------------------------------------------------------------------------------------------
# 3. Concurrent writers in several processes


def collect(out: Any, workers: Sequence[Any], n: int, timeout: float = 300.0) -> list[Any]:
    """`n` results from the workers' queue; raises (never hangs) when a worker died before answering."""
    import queue

    got: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        try:
            got.append(out.get(timeout=0.5))
        except queue.Empty:
            dead = [w.exitcode for w in workers if not w.is_alive()]
            if dead and len(got) + sum(1 for w in workers if w.is_alive()) < n:
                raise RuntimeError(f"a worker process exited early (exit codes {dead})") from None
            if time.monotonic() > deadline:
                raise RuntimeError("worker processes did not answer in time") from None
    return got


def _race_worker(url: str, rounds: list[list[tuple[str, int, str]]], barrier: Any, out: Any) -> None:
    from warmintro.engines.cadence import CadenceViolation, record_ask
    from warmintro.program import Rules
    from warmintro.store.db import Store

    rules = Rules()
    store = Store.open(url, upgrade=False)
    ok = refused = errors = 0
    try:
        for attempts in rounds:
            barrier.wait(timeout=120)
            for email, off, outcome in attempts:
                try:
                    record_ask(store, rules, contact_email=email, asked_at=BASE + timedelta(seconds=off),
                               outcome=outcome, asked_by=f"pid{os.getpid()}")
                    ok += 1
                except CadenceViolation:
                    refused += 1
                except Exception:
                    errors += 1
    finally:
        store.close()
        out.put((ok, refused, errors))


def concurrent_writers(url: str, processes: int, rounds: int, seed: int) -> dict[str, int]:
    from sqlalchemy import select

    from warmintro.store import models as m
    from warmintro.store.db import Store

    Store.open(url).close()  # migrated once, before the workers open it
    rng = random.Random(seed)
    plans: list[list[list[tuple[str, int, str]]]] = [[] for _ in range(processes)]
    emails = []
    for r in range(rounds):
        email = f"race{r}@race.example"
        emails.append(email)
        spread = rng.choice([0, 3600, 30 * DAY, 400 * DAY])  # same instant, an hour, a month, over a year
        for p in range(processes):
            plans[p].append([(email, rng.randint(0, spread), rng.choice(["pending", "accepted", "declined"]))
                             for _ in range(rng.randint(1, 4))])
    spawn = mp.get_context("spawn")
    barrier = spawn.Barrier(processes)
    out = spawn.Queue()
    workers = [spawn.Process(target=_race_worker, args=(url, plans[p], barrier, out), daemon=True)
               for p in range(processes)]
    for w in workers:
        w.start()
    results = collect(out, workers, len(workers))
    for w in workers:
        w.join(timeout=30)
    store = Store.open(url)
    violations = 0
    try:
        with store.session() as s:
            for email in emails:
                rows = s.execute(select(m.Ask.asked_at, m.Ask.outcome).where(m.Ask.contact_email == email)).all()
                violations += 1 if independent_violations([(a, o) for a, o in rows]) else 0
    finally:
        store.close()
    return {"histories": rounds, "accepted": sum(r[0] for r in results), "refused": sum(r[1] for r in results),
            "errors": sum(r[2] for r in results), "violations": violations,
            "crashed": sum(1 for w in workers if w.exitcode not in (0, None))}


# ---------------------------------------------------------------------------------------------------
# 4. Digests and notices, several scheduler processes


def _scheduler_worker(url: str, api_url: str, home: str, barrier: Any, commands: Any, out: Any) -> None:
    root_on_path()
    from agent.identity import Identity  # noqa: F401  (the Slack app's imports, as bot.py has them)
    from evals.faults.slack_faults import SECRET, TOKEN
    from slackapp.app import build_bolt_app
    from slackapp.deps import Deps, UnavailableAgent
    from slackapp.digest import send_daily_digests
    from slackapp.notices import send_due_notices
    from warmintro.settings import Settings
    from warmintro.store.db import Store

    store = Store.open(url, upgrade=False)
    settings = Settings(WARMINTRO_HOME=Path(home), SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_URL=api_url)
    deps = Deps(settings=settings, store=store, agent=UnavailableAgent())
    build_bolt_app(deps)  # fills deps.client, as bot.py does
    try:
        while True:
            cmd = commands.get(timeout=300)
            if cmd is None:
                break
            kind, iso = cmd
            now = datetime.fromisoformat(iso)
            barrier.wait(timeout=120)
            try:
                if kind == "digest":
                    res = send_daily_digests(deps, now)
                    out.put(("ok", [f"digest:{e}" for e in res.sent], len(res.failed)))
                else:
                    assert deps.client is not None
                    nres = send_due_notices(deps, now, deps.client)
                    out.put(("ok", list(nres.sent), len(nres.failed)))
            except Exception as exc:
                out.put(("error", [repr(exc)], 0))
    finally:
        store.close()


def scheduler_processes(ctx: FaultContext, url: str, processes: int, days: int) -> dict[str, int]:
    from evals.faults.slack_faults import NOW, small_workspace, start_mock
    from warmintro.engines.ledger import create_referral
    from warmintro.store.db import Store

    store = Store.open(url)
    folder = ctx.workdir / f"ws-sched-{uuid.uuid4().hex[:6]}"
    small_workspace().load(store, folder)
    # referrals of different ages: reminders (20 h), escalations (24 h) are due on the days run below
    for i in range(6):
        create_referral(store, referrer_email="priya@northwind.example", referee_email=f"lead{i}@prospect{i}.example",
                        at=NOW - timedelta(hours=18 + 5 * i), referee_name=f"Lead{i} Person{i}",
                        referee_company=f"Prospect {i}")
    store.close()
    mock = start_mock()
    spawn = mp.get_context("spawn")
    barrier = spawn.Barrier(processes)
    commands = [spawn.Queue() for _ in range(processes)]
    out = spawn.Queue()
    workers = [spawn.Process(target=_scheduler_worker, args=(url, mock.api_url, str(ctx.workdir / f"home{p}"),
                                                            barrier, commands[p], out), daemon=True)
               for p in range(processes)]
    counts = Counter()
    try:
        for w in workers:
            w.start()
        for day in range(days):
            for kind, hours in (("digest", 0), ("notice", 0), ("notice", 6)):
                when = NOW + timedelta(days=day, hours=hours)
                before = len(mock.calls_to("chat.postMessage"))
                for q in commands:
                    q.put((kind, when.isoformat()))
                results = collect(out, workers, len(workers))
                posts = mock.calls_to("chat.postMessage")[before:]
                sent = [k for status, keys, _f in results if status == "ok" for k in keys]
                counts["errors"] += sum(1 for status, _k, _f in results if status != "ok")
                counts["failed"] += sum(f for _s, _k, f in results)
                by_message = Counter((c.body.get("channel"), c.body.get("text")) for c in posts)
                dup = max(len(sent) - len(set(sent)), sum(n - 1 for n in by_message.values()),
                          len(posts) - len(set(sent)))
                counts[f"{kind}_sent"] += len(set(sent))
                counts[f"{kind}_duplicates"] += max(0, dup)
                counts["rounds"] += 1
    finally:
        for q in commands:
            q.put(None)
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()
        mock.stop()
    return dict(counts)


# ---------------------------------------------------------------------------------------------------


def run(ctx: FaultContext) -> dict[str, int | float]:
    root_on_path()
    scale = float(os.environ.get("WARMINTRO_FAULTS_SCALE", "1"))
    n_pure = max(20, int(10_000 * scale))
    n_store = max(5, int(60 * scale))
    race_rounds = max(2, int(24 * scale))
    sched_days = max(1, int(3 * scale))
    started = time.perf_counter()
    pure = pure_rules(n_pure, ctx.seed)
    ctx.log(f"  cadence: {pure['histories']} generated histories, {pure['attempts']} attempts, "
            f"{pure['violations']} violations ({time.perf_counter() - started:.1f} s)")
    metrics: dict[str, int | float] = {"cadence_pure_histories": pure["histories"]}
    store_h = store_v = race_h = race_v = race_err = 0
    digests = notices = dup_digests = dup_notices = sched_err = 0
    for url in ctx.database_urls:
        name = backend(url)
        with fresh_database(ctx, url, "cadence-store") as db:
            res = store_write_path(db, n_store, ctx.seed)
        store_h += res["histories"]
        store_v += res["violations"]
        with fresh_database(ctx, url, "cadence-race") as db:
            race = concurrent_writers(db, 4 if name == "postgresql" else 3, race_rounds, ctx.seed)
        race_h += race["histories"]
        race_v += race["violations"]
        race_err += race["errors"] + race["crashed"]
        ctx.log(f"  cadence on {name}: store {res['histories']} histories ({res['violations']} violations); "
                f"race {race['histories']} champions, {race['accepted']} accepted / {race['refused']} refused, "
                f"{race['errors']} errors, {race['violations']} violations")
        with fresh_database(ctx, url, "cadence-sched") as db:
            sched = scheduler_processes(ctx, db, 2, sched_days)
        digests += sched.get("digest_sent", 0)
        notices += sched.get("notice_sent", 0)
        dup_digests += sched.get("digest_duplicates", 0)
        dup_notices += sched.get("notice_duplicates", 0)
        sched_err += sched.get("errors", 0)
        ctx.log(f"  scheduler on {name} (2 processes): {sched}")
    metrics.update({
        "cadence_histories": pure["histories"] + store_h + race_h,
        "cadence_violations": pure["violations"] + store_v + race_v,
        "cadence_store_histories": store_h,
        "cadence_race_champions": race_h,
        "cadence_write_errors": race_err,
        "digests_sent": digests,
        "notices_sent": notices,
        "duplicate_digests": dup_digests,
        "duplicate_notices": dup_notices,
        "scheduler_errors": sched_err,
    })
    return metrics
