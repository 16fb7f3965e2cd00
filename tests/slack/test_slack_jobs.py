"""A champion's click survives the process: the ack writes the answer's claim and its job together, and a job
whose process died is finished by the replay (bot.py runs it in every process) — once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy import update as sql_update
from test_slack_home import asks, champion_click, sent_dm

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.jobs_runner import replay_champion_jobs
from slackapp.listeners.actions.champion import start_champion_answer
from warmintro.flows import jobs
from warmintro.store import models as m
from warmintro.testing.slack_harness import NOW, PRIYA, Harness

pytestmark = pytest.mark.store


def _approve_value(dm_blocks: list[dict]) -> str:
    actions = dm_blocks[-1]
    return next(e["value"] for e in actions["elements"] if e["action_id"] == b.CHAMPION_APPROVE)


def test_an_acknowledged_answer_whose_process_died_is_finished_by_the_replay(slack: Harness):
    value = _approve_value(sent_dm(slack))
    priya = Identity(role="champion", slack_user_id=PRIYA, email="priya@northwind.example", name="Priya Natarajan")
    body = {"container": {"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
            "user": {"id": PRIYA}}
    # The ack ran (the job is written) and the process died before the lazy listener did anything.
    assert start_champion_answer(slack.deps, body, priya, "approve", value) == "new"
    assert start_champion_answer(slack.deps, body, priya, "approve", value) == "pending"  # a second click
    client = slack.deps.client
    assert isinstance(client, WebClient)
    # A fresh process replays it (created more than 2 s ago, no lease): the note arrives, the CSM hears once.
    assert replay_champion_jobs(_later(slack, 30), client) == 1
    [update] = slack.mock.wait_for("chat.update")
    assert update.body["channel"] == "D0PRIYA" and "note" in update.body["text"].lower()
    slack.mock.wait_for("chat.postMessage", where=lambda c: c.body["channel"] == "D0DANA" and "approved" in c.body["text"])
    with slack.deps.store.session() as s:
        assert [j.status for j in s.scalars(select(m.SlackJob))] == ["done"]
        assert len(s.scalars(select(m.Referral)).all()) == 2
    assert asks(slack)[0].outcome == "accepted"
    # Replaying again, or the champion clicking again, repeats nothing.
    assert replay_champion_jobs(_later(slack, 60), client) == 0
    champion_click(slack, sent_blocks(slack), b.CHAMPION_APPROVE)
    reply = slack.mock.wait_for("response_url")[-1]
    assert "already answered" in reply.body["text"]
    slack.drain()
    assert len(slack.mock.calls_to("chat.update")) == 1
    assert len(slack.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "D0DANA")) == 1


def _later(slack: Harness, seconds: int):
    deps = slack.deps
    deps.clock = lambda: NOW + timedelta(seconds=seconds)
    return deps


def sent_blocks(slack: Harness) -> list[dict]:
    return slack.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "D0PRIYA")[0].json_field("blocks")


def test_a_click_the_store_cannot_record_is_not_acknowledged(slack: Harness, monkeypatch: pytest.MonkeyPatch):
    blocks = sent_dm(slack)

    def down(*_a, **_k):
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(jobs, "start", down)
    champion_click_status = _click_status(slack, blocks)
    assert champion_click_status >= 500  # Slack shows the champion an error; nothing was silently dropped
    slack.drain()
    assert asks(slack)[0].outcome == "pending"
    assert slack.mock.calls_to("chat.postMessage", where=lambda c: c.body["channel"] == "D0DANA") == []


def _click_status(slack: Harness, dm_blocks: list[dict]) -> int:
    from warmintro.testing.slack_harness import click

    actions = dm_blocks[-1]
    element = next(e for e in actions["elements"] if e["action_id"] == b.CHAMPION_APPROVE)
    payload = click(PRIYA, {"action_id": b.CHAMPION_APPROVE, "block_id": actions["block_id"], "value": element["value"],
                            "type": "button"},
                    container={"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
                    response_url=slack.mock.response_url("champion"))
    return slack.action(payload).status_code


def _priya_job(slack: Harness, response_url: str | None = None) -> str:
    value = _approve_value(sent_dm(slack))
    priya = Identity(role="champion", slack_user_id=PRIYA, email="priya@northwind.example", name="Priya Natarajan")
    body = {"container": {"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
            "user": {"id": PRIYA}, **({"response_url": response_url} if response_url else {})}
    assert start_champion_answer(slack.deps, body, priya, "approve", value) == "new"
    with slack.deps.store.session() as s:
        return s.scalars(select(m.SlackJob.job_id)).one()


def test_holders_that_died_do_not_use_up_the_answers_tries(slack: Harness):
    # The CI failure this guards: every SIGKILL mid-answer counted as a failed try, so an answer whose process
    # was killed six times was given back silently and the champion's yes was lost.
    job_id = _priya_job(slack)
    for i in range(12):  # twelve processes took the lease and died with it
        assert jobs.lease(slack.deps.store, job_id, NOW + i * (jobs.LEASE + timedelta(seconds=1))) is not None
    client = slack.deps.client
    assert isinstance(client, WebClient)
    assert replay_champion_jobs(_later(slack, 600), client) == 1
    [update] = slack.mock.wait_for("chat.update")
    assert "note" in update.body["text"].lower()
    with slack.deps.store.session() as s:
        job = s.get(m.SlackJob, job_id)
        assert job is not None and (job.status, job.attempts, job.errors) == ("done", 13, 0)


def test_an_answer_that_keeps_failing_is_given_back_and_the_champion_can_answer_again(slack: Harness):
    job_id = _priya_job(slack, slack.mock.response_url("stale-click"))
    for _ in range(jobs.MAX_ERRORS):  # five runs raised
        jobs.unlease(slack.deps.store, job_id)
    client = slack.deps.client
    assert isinstance(client, WebClient)
    assert replay_champion_jobs(_later(slack, 30), client) == 0
    told = slack.mock.wait_for("response_url", where=lambda c: c.path.endswith("/stale-click"))
    assert "couldn't record" in told[0].body["text"]
    with slack.deps.store.session() as s:
        assert s.get(m.SlackJob, job_id).status == "failed"  # type: ignore[union-attr]
        assert s.scalars(select(m.SlackEvent).where(m.SlackEvent.event_id.like("answer:%"))).all() == []
    assert asks(slack)[0].outcome == "pending"
    # The claim is free again: the champion's next click is a fresh answer, and it is done.
    champion_click(slack, sent_blocks(slack), b.CHAMPION_APPROVE)
    [working, update] = slack.mock.wait_for("chat.update", 2)  # "Drafting your note…", then the notes
    assert "Drafting your note…" in json.dumps(working.json_field("blocks"), ensure_ascii=False)
    assert "note" in update.body["text"].lower()
    assert asks(slack)[0].outcome == "accepted"


def test_a_click_on_an_exhausted_job_becomes_a_fresh_answer(slack: Harness):
    job_id = _priya_job(slack)
    with slack.deps.store.session() as s:  # as if forty-one holders had died with it (a plain UPDATE: no read
        # first, which on SQLite could not upgrade its lock while the DM's listener still writes)
        s.execute(sql_update(m.SlackJob).where(m.SlackJob.job_id == job_id).values(attempts=jobs.MAX_LEASES + 1))
    slack.deps.clock = lambda: NOW + timedelta(seconds=30)
    champion_click(slack, sent_blocks(slack), b.CHAMPION_APPROVE)  # the ack: "pending"; the lazy half retries it
    [_working, update] = slack.mock.wait_for("chat.update", 2, timeout=45)  # a deadline for a loaded CI machine
    assert "note" in update.body["text"].lower()
    slack.drain()
    with slack.deps.store.session() as s:
        assert sorted(j.status for j in s.scalars(select(m.SlackJob))) == ["done", "failed"]
        assert len(s.scalars(select(m.Referral)).all()) == 2
    assert asks(slack)[0].outcome == "accepted"


def test_the_replay_leases_each_job_at_its_turn_not_when_the_loop_started(slack: Harness):
    # With the loop's start time, a job reached after slow ones got a lease that had already lapsed, and the
    # champion's re-click ran it at the same time (two referral inserts with one key, in CI on PostgreSQL).
    store = slack.deps.store
    for n in (1, 2, 3):
        jobs.start(store, f"answer:test-{n}", "approve", {"n": n}, NOW)
    ticks = iter(NOW + timedelta(seconds=30 * i) for i in range(1, 100))
    seen: list[datetime] = []

    def clock() -> datetime:
        seen.append(next(ticks))
        return seen[-1]

    leases: list[tuple[datetime | None, datetime]] = []

    def run(job: m.SlackJob) -> None:  # each run "takes" 30 s: the clock moves on between jobs
        leases.append((job.lease_until, seen[-1]))
        jobs.finish(store, job.job_id, clock())

    assert jobs.replay(store, clock, run) == 3
    assert len(leases) == 3
    for lease_until, taken_at in leases:
        assert lease_until == taken_at + jobs.LEASE


def test_an_ack_landing_right_after_the_give_back_still_gets_its_answer(slack: Harness, monkeypatch: pytest.MonkeyPatch):
    # Bolt runs a click's ack beside its lazy half. When the lazy half gave the exhausted job back (freeing the
    # claim) before the ack wrote its own claim, the ack's fresh job was left for nobody: no update ever came.
    from slackapp.listeners.actions import champion

    job_id = _priya_job(slack)
    with slack.deps.store.session() as s:
        s.execute(sql_update(m.SlackJob).where(m.SlackJob.job_id == job_id).values(attempts=jobs.MAX_LEASES + 1))
    slack.deps.clock = lambda: NOW + timedelta(seconds=30)
    value = _approve_value(sent_blocks(slack))
    priya = Identity(role="champion", slack_user_id=PRIYA, email="priya@northwind.example", name="Priya Natarajan")
    body = {"container": {"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
            "user": {"id": PRIYA}}
    give_back = jobs.give_back

    def give_back_then_the_ack_lands(store, job, now):
        give_back(store, job, now)
        assert start_champion_answer(slack.deps, body, priya, "approve", value) == "new"  # the ack, just now

    monkeypatch.setattr(jobs, "give_back", give_back_then_the_ack_lands)
    client = slack.deps.client
    assert isinstance(client, WebClient)
    champion.champion_answer(slack.deps, client, body, priya, "approve", value)  # the lazy half
    [update] = slack.mock.calls_to("chat.update")  # done before it returned: the notes, in place of the buttons
    assert "note" in update.body["text"].lower()
    with slack.deps.store.session() as s:
        assert sorted(j.status for j in s.scalars(select(m.SlackJob))) == ["done", "failed"]
    assert asks(slack)[0].outcome == "accepted"


def test_a_click_that_waits_for_another_answer_to_finish_is_told_it_was_answered(slack: Harness,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    import threading

    waiting = threading.Event()
    real_lease_or_wait = jobs.lease_or_wait

    def lease_or_wait(*args, **kwargs):
        waiting.set()
        return real_lease_or_wait(*args, **kwargs)

    monkeypatch.setattr(jobs, "lease_or_wait", lease_or_wait)
    blocks = sent_dm(slack)
    priya = Identity(role="champion", slack_user_id=PRIYA, email="priya@northwind.example", name="Priya Natarajan")
    body = {"container": {"type": "message", "message_ts": "1764061200.000500", "channel_id": "D0PRIYA"},
            "user": {"id": PRIYA}}
    # "Not now" was clicked first: its job is written and held by the listener still finishing it
    assert start_champion_answer(slack.deps, body, priya, "not_now", _approve_value(blocks)) == "new"
    with slack.deps.store.session() as s:
        [job_id] = s.scalars(select(m.SlackJob.job_id)).all()
    assert jobs.lease(slack.deps.store, job_id, NOW) is not None
    # "Approve" comes while it finishes: this click waits for it, then says the ask was answered
    champion_click(slack, blocks, b.CHAMPION_APPROVE)
    assert waiting.wait(timeout=30)  # the click's lazy half is waiting on the held job
    jobs.finish(slack.deps.store, job_id, NOW)
    reply = slack.mock.wait_for("response_url")[-1]
    assert "already answered" in reply.body["text"]
    slack.drain()
    assert slack.mock.calls_to("chat.update") == []  # the click changed nothing of the first answer's
