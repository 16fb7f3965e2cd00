"""emails/emails.jsonl: past emails written by champions, each in a voice of their own.

Every contact with an ask due writes (so a draft can imitate them), plus about 30% of the others;
10-40 emails each, or fewer when `emails` caps the total. A writer's voice (casual, formal,
enthusiastic or terse, with their own greetings and sign-offs) is recorded in the ground truth.
Recipients are colleagues at the account, the account's CSM and AE, and for non-champions people at
their former companies; targets champions (see champions.py) write to their colleagues and the
vendor's team only, so their planted network stays exact.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import TextIO

import numpy as np

from warmintro.demo.model import Company, Contact, World
from warmintro.demo.network import Network
from warmintro.demo.voices import STYLES, Person, compose, make_voice

WRITER_SHARE = 0.3
PER_WRITER = (10, 40)


def _counts(r: random.Random, n: int, total: int | None) -> list[int]:
    if total is None:
        return [r.randint(*PER_WRITER) for _ in range(n)]
    if n == 0:
        return []
    base, extra = divmod(total, n)
    counts = [base] * n
    for i in r.sample(range(n), extra):
        counts[i] += 1
    # spread a little (keep the sum): move up to a third of each pair's mails between them
    for i in range(0, n - 1, 2):
        k = r.randint(0, min(counts[i], counts[i + 1]) // 3)
        counts[i] += k
        counts[i + 1] -= k
    return counts


def pick_writers(world: World, r: random.Random, emails: int | None) -> list[Contact]:
    required = []
    seen: set[int] = set()
    for m in world.moments:
        c = world.contacts[m.contact]
        if not m.reasons and c.index not in seen:
            seen.add(c.index)
            required.append(c)
    others = [c for c in world.contacts if c.index not in seen and not c.extra]
    want = round(WRITER_SHARE * len(others))
    if emails is not None:
        want = max(0, min(want, emails // 25 - len(required)))
    writers = required + r.sample(others, min(want, len(others)))
    if emails is not None and len(writers) > emails:
        writers = writers[: max(1, emails)]
    for c in writers:
        c.writer = True
    return writers


def write_emails(world: World, fh: TextIO, r: random.Random, net: Network, companies: list[Company],
                 emails: int | None) -> int:
    writers = pick_writers(world, r, emails)
    counts = _counts(r, len(writers), emails)
    index = {co.domain: i for i, co in enumerate(companies)}
    starts = np.searchsorted(net.company, np.arange(len(companies) + 1)) if net.size else None
    team = {m.email: m for m in world.team}
    T = world.as_of
    rows: list[tuple[str, str]] = []
    for n_writer, (c, n) in enumerate(zip(writers, counts, strict=True)):
        a = world.accounts[c.account]
        style = STYLES[n_writer % len(STYLES)] if n_writer < 8 else r.choice(STYLES)
        voice = make_voice(r, style)
        world.voices[c.email] = voice.truth()
        me = Person(c.email, c.first, c.last, c.gender, c.title, a.name)
        colleagues = [world.contacts[i] for i in a.contacts if i != c.index and not world.contacts[i].extra]
        vendor = [team[e] for e in (a.csm, a.ae) if e in team]
        network: list[Person] = []
        if not c.champion and starts is not None:
            for job in world.contact_jobs.get(c.index, [])[1:]:
                k = index.get(job.domain)
                if k is None or starts[k + 1] == starts[k]:
                    continue
                for _ in range(2):
                    i = int(starts[k] + r.randrange(int(starts[k + 1] - starts[k])))
                    first, last, gender = net.name(i)
                    network.append(Person(net.emails[i], first, last, gender, "", job.company))
        pool = [Person(x.email, x.first, x.last, x.gender, x.title, a.name) for x in colleagues]
        pool += [Person(x.email, x.first, x.last, x.gender, x.title, world.vendor.name) for x in vendor]
        for _ in range(n):
            x = r.random()
            if network and x < 0.2:
                to = r.choice(network)
            elif vendor and (x < 0.45 or not colleagues):
                to = pool[len(colleagues) + r.randrange(len(vendor))]
            else:
                to = pool[r.randrange(len(colleagues))] if colleagues else pool[0]
            other = r.choice(network) if network else None
            ctx = {"vendor": world.vendor.name, "story": a.story,
                   "other": f"{other.first} {other.last}" if other else "",
                   "other_company": other.company if other else ""}
            subject, body = compose(r, voice, me, to, ctx)
            cc = []
            if r.random() < 0.2:
                extra = [p.email for p in pool if p.email != to.email]
                if extra:
                    cc.append(r.choice(extra))
            when = T - timedelta(days=r.uniform(1, 365))
            when = when.replace(hour=r.randint(7, 19), minute=r.randint(0, 59), second=r.randint(0, 59), microsecond=0)
            date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            obj = {
                "message_id": f"<{r.getrandbits(64):016x}@mail.{a.domain}>",
                "from": f"{c.name} <{c.email}>", "to": [to.email], "cc": cc,
                "date": date, "subject": subject, "body": body,
            }
            rows.append((date, json.dumps(obj, ensure_ascii=False)))
    rows.sort(key=lambda x: x[0])
    for _, line in rows:
        fh.write(line + "\n")
    return len(rows)
