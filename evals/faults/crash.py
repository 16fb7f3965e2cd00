"""Crash during approval: SIGKILL the bot between a champion's Approve click and the recorded referral / posted
message, restart it, click again (as the champion does when nothing happened, or as Slack redelivers), and count.

Real processes: `python bot.py` (HTTP mode, `--no-digest`) on a free 127.0.0.1 port, against the mock Slack Web
API (warmintro/testing/mock_slack_api.py) in this process, on SQLite and on PostgreSQL when reachable. Each trial has
its own champion (so the cadence never interferes), an ask recorded with the real `record_ask` and the ASK_SENT
audit row the CSM's Send ask writes, and the champion's DM blocks built by `slackapp.blocks.champion_ask_blocks`;
the click is the block_actions payload Slack sends for the Approve button, signed as Slack signs it.

A trial: click Approve (acked 200) -> wait a random delay within the time the approval takes -> SIGKILL -> start a
new bot process -> the same click again -> wait until the bot answers it (the DM updated with the note, or a
reply in the response_url) or gives up. Then, per trial:

    approvals_lost     no referral for (ask, target), or the champion never got the note (no chat.update with it)
    approvals_doubled  more than one referral for (ask, target), or the CSM told more than once
    crash_trials       trials whose kill landed while the bot was still running
    crash_stuck        of the lost, those where the re-click was answered "You already answered this one"
                       (the answer claim committed, the work died with the process)
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evals.faults.import_fuzz import ROOT, backend, isolated_url, slack_conftest
from warmintro.store.db import Store
from warmintro.testing.processes import stop_process

TRIALS = int(os.environ.get("WARMINTRO_FAULTS_CRASH_TRIALS", "50"))  # SIGKILLs, split over the databases
PER_KILL = 2  # approvals in flight at each kill, started at staggered moments
DANA = "U0DANA"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bot:
    """`python bot.py` as a real process, restartable."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self, timeout_s: float = 60) -> None:
        import httpx

        port = _free_port()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "--host", "127.0.0.1", "--port", str(port),
                                      "--no-digest"], cwd=str(ROOT), env=self.env, stdout=log, stderr=log)
        log.close()
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=5) as http:
            while True:  # start-up poll, bounded
                try:
                    if http.get(self.base + "/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None:
                    raise RuntimeError(f"bot.py exited {self.proc.returncode}: see {self.log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError("bot.py did not start")
                time.sleep(0.05)

    def kill(self) -> bool:
        """SIGKILL; True when the process was still running."""
        assert self.proc is not None
        alive = self.proc.poll() is None
        if alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        return alive

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc)


def _workspace(conftest: Any, n: int, now: datetime) -> Any:
    """n champions at n healthy accounts, each with one ICP-fit person in their network, and one CSM."""
    ws = conftest.Workspace()
    ws.add("team.csv", email="dana@vendor.example", name="Dana Whitfield", role="csm", slack_user_id=DANA)
    for i in range(n):
        acc, email = f"A{i:03d}", f"champ{i:03d}@cust{i:03d}.example"
        ws.account(acc, name=f"Customer {i:03d}", domain=f"cust{i:03d}.example", industry="Logistics", employees=900,
                   csm_email="dana@vendor.example")
        ws.contact(email, acc, name=f"Champion{i:03d} Person", title="VP Operations", crm_role="economic_buyer",
                   slack_user_id=f"U0C{i:03d}")
        ws.daily_usage(acc, email, days=40, end=now)
        ws.signal(f"S{i:03d}", acc, "nps", now - timedelta(hours=2), contact_email=email, score=10,
                  notes="Cut our dispatch planning from 3 hours to 20 minutes")
        target = f"target{i:03d}@prospect{i:03d}.example"
        ws.add("people.csv", email=target, name=f"Target{i:03d} Lead", company=f"Prospect {i:03d}",
               domain=f"prospect{i:03d}.example", title="VP Operations", seniority="vp", function="ops",
               industry="Logistics", company_employees=900)
        ws.add("relationships.csv", a_email=email, b_email=target, kind="coworker", weight=12,
               first_at=now - timedelta(days=900), last_at=now - timedelta(days=30))
    return ws


def _open_asks(store: Store, n: int, now: datetime) -> list[dict[str, Any]]:
    """An ask per champion as the CSM's Send ask records it, and the Approve click the champion would send."""
    from slackapp import blocks as b
    from warmintro.engines.cadence import record_ask
    from warmintro.flows.approval import ASK_SENT
    from warmintro.program import load_program
    from warmintro.store import models as m

    with store.session() as s:
        program = load_program(s)
    out = []
    for i in range(n):
        email, target = f"champ{i:03d}@cust{i:03d}.example", f"target{i:03d}@prospect{i:03d}.example"
        ask_id = record_ask(store, program.rules, contact_email=email, asked_at=now, channel="slack",
                            asked_by="dana@vendor.example", account_id=f"A{i:03d}", trigger_signal_id=f"S{i:03d}",
                            persona="economic_buyer")
        with store.session() as s:
            s.add(m.AuditLog(at=now, actor="dana@vendor.example", action=ASK_SENT, subject=email,
                             detail={"ask_id": ask_id, "targets": [target], "signal_id": f"S{i:03d}", "via": "slack_dm"}))
        blocks = b.champion_ask_blocks(champion_name=f"Champion{i:03d} Person", csm_name="Dana Whitfield",
                                       vendor=program.vendor.name, dealing_with=None,
                                       targets=[b.TargetLine(f"Target{i:03d} Lead", f"VP Operations at Prospect {i:03d}",
                                                             "former coworker")],
                                       targets_note=None, ask_id=ask_id)
        out.append({"i": i, "ask_id": ask_id, "email": email, "target": target, "user": f"U0C{i:03d}",
                    "channel": f"D0C{i:03d}", "blocks": blocks})
    return out


def _click_body(conftest: Any, trial: dict[str, Any], response_url: str) -> str:
    from slackapp import blocks as b

    actions = trial["blocks"][-1]
    element = next(e for e in actions["elements"] if e["action_id"] == b.CHAMPION_APPROVE)
    payload = conftest.click(trial["user"], {"action_id": b.CHAMPION_APPROVE, "block_id": actions["block_id"],
                                             "value": element["value"], "type": "button"},
                             container={"type": "message", "message_ts": "1764061200.000500",
                                        "channel_id": trial["channel"]},
                             message={"ts": "1764061200.000500", "blocks": trial["blocks"]},
                             response_url=response_url)
    return str(conftest.action_body(payload))


def _post(conftest: Any, base: str, body: str) -> int:
    import httpx

    headers = conftest.signed_headers(body, content_type="application/x-www-form-urlencoded")
    try:
        return httpx.post(base + "/slack/events", content=body.encode(), headers=headers, timeout=10).status_code
    except httpx.HTTPError:
        return 599


def _click(conftest: Any, mock: Any, trial: dict[str, Any], offset: float, base: str) -> int:
    time.sleep(offset)
    return _post(conftest, base, _click_body(conftest, trial, mock.response_url(f"c{trial['i']:03d}")))


def _answered(mock: Any, trial: dict[str, Any], rurl_name: str) -> bool:
    # the answer, not the progress line ("Drafting your note…") that stands in for the buttons meanwhile
    updates = mock.calls_to("chat.update", where=lambda c: c.body.get("channel") == trial["channel"]
                            and not str(c.body.get("text", "")).endswith("…"))
    replies = mock.calls_to("response_url", where=lambda c: c.path.endswith("/" + rurl_name))
    return bool(updates or replies)


def _wait_answer(mock: Any, trial: dict[str, Any], rurl_name: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:  # a bounded poll of the mock's record of calls
        if _answered(mock, trial, rurl_name):
            return True
        time.sleep(0.02)
    return False


def _tally(store: Store, mock: Any, trial: dict[str, Any]) -> dict[str, int]:
    from sqlalchemy import func, select

    from warmintro.flows.approval import answer_key
    from warmintro.store import models as m

    with store.session() as s:
        refs = s.scalar(select(func.count()).select_from(m.Referral).where(
            m.Referral.referrer_email == trial["email"], m.Referral.referee_email == trial["target"])) or 0
    notes = [c for c in mock.calls_to("chat.update", where=lambda c: c.body.get("channel") == trial["channel"])
             if "note" in str(c.body.get("text", "")).lower() and not str(c.body.get("text", "")).endswith("…")]
    name = f"Champion{trial['i']:03d} Person"
    told = [c for c in mock.calls_to("chat.postMessage", where=lambda c: c.body.get("channel") == "D0DANA")
            if name in str(c.body.get("text", "")) and "approved" in str(c.body.get("text", ""))]
    stuck = [c for c in mock.calls_to("response_url") if f"/c{trial['i']:03d}" in c.path
             and "already answered" in str(c.body.get("text", ""))]
    with store.session() as s:  # for the log of a lost trial: what became of its jobs, and what the bot said
        job_rows = [f"{j.status}/leases={j.attempts}/errors={j.errors}" for j in s.scalars(
            select(m.SlackJob).where(m.SlackJob.key == answer_key(trial["ask_id"])).order_by(m.SlackJob.created_at))]
    replies = [str(c.body.get("text", ""))[:60] for c in mock.calls_to("response_url") if f"/c{trial['i']:03d}" in c.path]
    return {"referrals": int(refs), "notes": len(notes), "told": len(told), "stuck": len(stuck), "jobs": job_rows,
            "replies": replies}


def crash_trials(url: str, workdir: Path, trials: int, rnd: random.Random, log: Any) -> dict[str, Any]:
    conftest = slack_conftest()
    now = datetime.now(UTC).replace(microsecond=0)
    mock = conftest.MockSlackAPI().start()
    mock.add_user(DANA, "dana@vendor.example")
    champions = trials * PER_KILL + 1
    for i in range(champions):
        mock.add_user(f"U0C{i:03d}", f"champ{i:03d}@cust{i:03d}.example")
    store = Store.open(url)
    bot = None
    out: dict[str, Any] = {"crash_trials": 0, "crash_approvals": 0, "approvals_lost": 0, "approvals_doubled": 0, "crash_stuck": 0,
                           "crash_note_missing": 0, "crash_referral_missing": 0}
    try:
        _workspace(conftest, champions, now).load(store, workdir / f"crash-ws-{backend(url)}")
        asks = _open_asks(store, champions, now)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARMINTRO_", "OPENAI_"))}
        env.update(PYTHONPATH=str(ROOT), WARMINTRO_HOME=str(workdir / "crash-home"), WARMINTRO_DATABASE_URL=url,
                   SLACK_BOT_TOKEN=conftest.TOKEN, SLACK_SIGNING_SECRET=conftest.SECRET, SLACK_API_URL=mock.api_url)
        bot = Bot(env, workdir / f"crash-bot-{backend(url)}.log")
        bot.start()
        # Calibration: how long an undisturbed approval takes (click -> note in the DM), on the last champion.
        calib = asks[-1]
        started = time.monotonic()
        if _post(conftest, bot.base, _click_body(conftest, calib, mock.response_url(f"c{calib['i']:03d}"))) != 200:
            raise RuntimeError("the calibration click was not acked")
        if not _wait_answer(mock, calib, f"c{calib['i']:03d}", 30):
            raise RuntimeError("the calibration approval never answered")
        span = time.monotonic() - started
        log(f"crash: {backend(url)}: an approval takes {span:.2f}s; {trials} kills, {PER_KILL} approvals in flight each")
        pending: list[dict[str, Any]] = []  # clicked, not yet answered: clicked again in the next round
        for r in range(0, len(asks) - 1, PER_KILL):
            group = asks[r : min(r + PER_KILL, len(asks) - 1)]
            retry = [t for t in pending if not _answered(mock, t, f"c{t['i']:03d}")]
            threads = [threading.Thread(target=_click, args=(conftest, mock, t, 0.0, bot.base)) for t in retry]
            threads += [threading.Thread(target=_click, args=(conftest, mock, t, 0.0 if j == 0 else rnd.uniform(0.0, span),
                                                               bot.base)) for j, t in enumerate(group)]
            for th in threads:
                th.start()
            time.sleep(rnd.uniform(0.0, span * 1.2))  # the fault: a kill at a random moment of the approvals' work
            if bot.kill():
                out["crash_trials"] += 1
            for th in threads:
                th.join()
            out["crash_approvals"] += len(group)
            pending = retry + group
            bot.start()
        # Recovery: the champions who saw nothing happen click once more; the bot is left to finish.
        for trial in asks[:-1]:
            if not _answered(mock, trial, f"c{trial['i']:03d}"):
                _click(conftest, mock, trial, 0.0, bot.base)
        for trial in asks[:-1]:
            _wait_answer(mock, trial, f"c{trial['i']:03d}", 20)
        # The end state: a job whose holder was killed is finished by the next process's replay once its lease
        # lapses (jobs.LEASE, then the replay loop's interval), with nobody clicking: wait for that, bounded.
        settle = time.monotonic() + 45
        while time.monotonic() < settle and any(
                (t := _tally(store, mock, trial))["referrals"] == 0 or t["notes"] == 0 or t["told"] == 0
                for trial in asks[:-1]):
            time.sleep(0.25)
        time.sleep(1.0)  # a late duplicate would show here
        for trial in asks[:-1]:
            t = _tally(store, mock, trial)
            lost = t["referrals"] == 0 or t["notes"] == 0
            doubled = t["referrals"] > 1 or t["told"] > 1
            out["approvals_lost"] += int(lost)
            out["approvals_doubled"] += int(doubled)
            out["crash_stuck"] += int(lost and t["stuck"] > 0)
            out["crash_note_missing"] += int(t["notes"] == 0)
            out["crash_referral_missing"] += int(t["referrals"] == 0)
            if lost or doubled:
                log(f"crash: {backend(url)} trial {trial['i']}: {json.dumps(t)}")
    finally:
        if bot is not None:
            bot.stop()
        store.close()
        mock.stop()
    return out


def run(ctx: Any, *, trials: int | None = None) -> dict[str, int | float]:
    n = TRIALS if trials is None else trials
    per_db = -(-n // max(1, len(ctx.database_urls)))
    rnd = random.Random(ctx.seed)
    totals: dict[str, int | float] = {}
    for url in ctx.database_urls:
        with isolated_url(url, ctx.workdir, "crash") as own:
            for k, v in crash_trials(own, ctx.workdir, per_db, rnd, ctx.log).items():
                totals[k] = totals.get(k, 0) + v
    ctx.log(f"crash: {totals}")
    return totals

