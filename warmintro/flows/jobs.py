"""Durable work started by a click, so a crash between the acknowledgement and the result loses nothing.

Slack does not resend a button click it got a 200 for, so when the process dies after the ack, the click is
gone unless it was written down first. `start` writes the answer's claim (`answer:{ask_id}`, the same key the
web approval page takes) and a job row in ONE transaction, before the click is acknowledged. The lazy
listener then takes a lease on the job, does the work (every step idempotent: referrals have idempotency
keys, the CSM's DM has its own claim) and marks it done. Jobs whose lease ran out (the process died) are
replayed by every running bot process (`replay`): the lease decides which one does it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from warmintro.store import models as m
from warmintro.store.db import Store

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=10)  # renewed while the work runs (`held`), so a crashed holder is replaced quickly
# Then the job fails and the claim is given back, so the champion can click again. Runs that raised and
# leases that lapsed are counted apart: a process killed mid-answer (a deploy, the OOM killer) is not the
# answer's fault and must not use up its tries; only a job that kills every process that takes it does.
MAX_ERRORS = 5
MAX_LEASES = 40


def start(store: Store, key: str, kind: str, payload: dict[str, Any], now: datetime) -> str:
    """Claim `key` and write the job, together. "new": this click owns it; "pending": an earlier click's job is
    still to finish (this click re-runs it if its lease ran out); "answered": done before, or answered elsewhere."""
    with store.session() as s:
        insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        won = s.execute(insert(m.SlackEvent).values(event_id=key, received_at=now).on_conflict_do_nothing()
                        .returning(m.SlackEvent.event_id)).first()
        if won is not None:
            s.add(m.SlackJob(job_id=uuid.uuid4().hex, key=key, kind=kind, payload=payload, status="pending",
                             attempts=0, created_at=now))
            return "new"
        pending = s.scalars(select(m.SlackJob.job_id).where(m.SlackJob.key == key, m.SlackJob.status == "pending")).first()
        return "pending" if pending else "answered"


def pending_for(store: Store, key: str) -> str | None:
    with store.session() as s:
        return s.scalars(select(m.SlackJob.job_id).where(m.SlackJob.key == key, m.SlackJob.status == "pending")
                         .order_by(m.SlackJob.created_at)).first()


def wait_for_job(store: Store, key: str, timeout_s: float = 5.0) -> str | None:
    """The pending job for `key`. Bolt starts a lazy listener alongside its ack, so the ack's transaction may
    not have committed yet: wait (bounded) until the claim exists; then its job is pending, or already done."""
    deadline = time.monotonic() + timeout_s
    while True:
        job_id = pending_for(store, key)
        if job_id is not None:
            return job_id
        with store.session() as s:
            claimed = s.get(m.SlackEvent, key) is not None
        if claimed or time.monotonic() > deadline:
            return pending_for(store, key) if claimed else None
        time.sleep(0.05)


def status(store: Store, job_id: str) -> str | None:
    with store.session() as s:
        return s.scalars(select(m.SlackJob.status).where(m.SlackJob.job_id == job_id)).first()


def lease(store: Store, job_id: str, now: datetime) -> m.SlackJob | None:
    """Take the job for LEASE (None when it is done, failed, or another process holds it)."""
    with store.session() as s:
        row = s.execute(
            update(m.SlackJob)
            .where(m.SlackJob.job_id == job_id, m.SlackJob.status == "pending",
                   (m.SlackJob.lease_until.is_(None)) | (m.SlackJob.lease_until < now))
            .values(lease_until=now + LEASE, attempts=m.SlackJob.attempts + 1)
            .returning(m.SlackJob.job_id)).first()
        if row is None:
            return None
        job = s.get(m.SlackJob, job_id)
        if job is not None:
            s.expunge(job)
        return job


@contextlib.contextmanager
def held(store: Store, job_id: str, clock: Callable[[], datetime]) -> Iterator[None]:
    """Keep the lease while the work runs (a model draft can take a minute): renewed every LEASE / 3."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE.total_seconds() / 3):
            try:
                with store.session() as s:
                    s.execute(update(m.SlackJob).where(m.SlackJob.job_id == job_id, m.SlackJob.status == "pending")
                              .values(lease_until=clock() + LEASE))
            except Exception:
                log.exception("could not renew a job lease")

    t = threading.Thread(target=renew, name="job-lease", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(timeout=5)


def lease_or_wait(store: Store, job_id: str, clock: Callable[[], datetime]) -> m.SlackJob | None:
    """The job's lease for this caller; or None once someone else has finished it. Bounded by LEASE + 5 s:
    a holder that died lets its lease lapse within LEASE, and then this caller takes the job."""
    deadline = time.monotonic() + LEASE.total_seconds() + 5
    while True:
        job = lease(store, job_id, clock())
        if job is not None:
            return job
        if status(store, job_id) != "pending" or time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def finish(store: Store, job_id: str, now: datetime) -> None:
    with store.session() as s:
        s.execute(update(m.SlackJob).where(m.SlackJob.job_id == job_id)
                  .values(status="done", done_at=now, lease_until=None))


def give_back(store: Store, job: m.SlackJob, now: datetime) -> None:
    """The work cannot be done (e.g. the cadence refused it): the job fails and the claim is released, so
    the answer can be given again."""
    with store.session() as s:
        s.execute(update(m.SlackJob).where(m.SlackJob.job_id == job.job_id)
                  .values(status="failed", done_at=now, lease_until=None))
        s.execute(delete(m.SlackEvent).where(m.SlackEvent.event_id == job.key))


def unlease(store: Store, job_id: str) -> None:
    """The run raised (an error the next try may not meet): count it and let the replay take it again at once."""
    with store.session() as s:
        s.execute(update(m.SlackJob).where(m.SlackJob.job_id == job_id)
                  .values(lease_until=None, errors=m.SlackJob.errors + 1))


def exhausted(job: m.SlackJob) -> bool:
    """Tried too often: MAX_ERRORS runs raised, or MAX_LEASES holders died with it."""
    return (job.errors or 0) >= MAX_ERRORS or (job.attempts or 0) > MAX_LEASES


def replay(store: Store, clock: Callable[[], datetime], run: Callable[[m.SlackJob], Any],
           gave_up: Callable[[m.SlackJob], None] | None = None, *, kinds: Sequence[str] | None = None,
           skip_kinds: Sequence[str] = ()) -> int:
    """Run every pending job whose lease ran out (or was never taken a while after it was written). A job
    tried too often is given back and `gave_up` tells whoever is waiting for it. Each lease is taken at the
    clock's time when its turn comes: with the time the loop started, a job reached after slow ones would get
    a lease already lapsed, and a click waiting on it would run it at the same time. `kinds` / `skip_kinds`
    select the jobs one runner knows how to do."""
    now = clock()
    kind_filter = [m.SlackJob.kind.in_(list(kinds))] if kinds is not None else []
    if skip_kinds:
        kind_filter.append(m.SlackJob.kind.not_in(list(skip_kinds)))
    with store.session() as s:
        ids = list(s.scalars(select(m.SlackJob.job_id).where(
            m.SlackJob.status == "pending", m.SlackJob.created_at < now - timedelta(seconds=2),
            (m.SlackJob.lease_until.is_(None)) | (m.SlackJob.lease_until < now), *kind_filter)
            .order_by(m.SlackJob.created_at)))
    done = 0
    for job_id in ids:
        now = clock()
        job = lease(store, job_id, now)
        if job is None:
            continue
        if exhausted(job):
            log.warning("slack job failed too often; giving the answer back",
                        extra={"fields": {"kind": job.kind, "errors": job.errors, "leases": job.attempts}})
            give_back(store, job, now)
            if gave_up is not None:
                try:
                    gave_up(job)
                except Exception:
                    log.exception("could not tell anyone a slack job was given back")
            continue
        try:
            run(job)
            done += 1
        except Exception:
            log.exception("slack job replay failed", extra={"fields": {"kind": job.kind}})
            unlease(store, job_id)
    return done
