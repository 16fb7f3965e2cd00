"""Background history: a year of signals and meetings per account, the asks ledger, the pipeline.

The noise follows two rules so that it never changes what the planted scenarios say:
  - no background positive moment falls in the scan's 30-day lookback (positive signals are kept at
    least 31 days old; recent NPS answers are passives or detractors, recent QBRs are not positive);
  - accounts a scenario owns (`protected`) get background signals older than 120 days only, with every
    escalation, churn risk and negotiation resolved, and their contacts get no background asks.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from warmintro.demo import notes as N
from warmintro.demo.companies import person_name
from warmintro.demo.model import Account, AskRow, Company, Contact, Meeting, Opportunity, Signal, World

RECENT = timedelta(days=31)  # positive background signals are at least this old
PROTECTED_AGE = timedelta(days=120)
NPS_WAVES = (330, 150, 45, 12)


def by_persona(world: World, account: Account) -> dict[str, list[Contact]]:
    out: dict[str, list[Contact]] = defaultdict(list)
    for i in account.contacts:
        c = world.contacts[i]
        if not c.extra:
            out[c.persona].append(c)
    return out


def at_hour(day: datetime, r: random.Random, lo: int = 13, hi: int = 18) -> datetime:
    return day.replace(hour=r.randint(lo, hi - 1), minute=r.choice((0, 15, 30, 45)), second=0, microsecond=0)


class Background:
    def __init__(self, world: World, r: random.Random) -> None:
        self.w = world
        self.r = r
        self.T = world.as_of

    # -- helpers ---------------------------------------------------------------------------------
    def ok(self, a: Account, at: datetime, positive: bool) -> bool:
        if at > self.T - timedelta(hours=1) or at < a.customer_since:
            return False
        if a.churned_at is not None and at > a.churned_at:
            return False
        if a.protected:
            return at < self.T - PROTECTED_AGE
        return not (positive and at > self.T - RECENT)

    def signal(self, a: Account, type_: str, at: datetime, label: str, notes: str, *, contact: Contact | None = None,
               score: float | None = None, resolved: datetime | None = None, given: float = 0.25) -> Signal:
        s = Signal(a.account_id, type_, at, contact.email if contact else "", score,
                   label if self.r.random() < given else "", notes, resolved, label)
        self.w.signals.append(s)
        return s

    def meeting(self, a: Account, kind: str, at: datetime, people: list[Contact], title: str,
                team: tuple[str, ...] = ("csm",)) -> None:
        emails = [c.email for c in people]
        if "csm" in team:
            emails.append(a.csm)
        if "ae" in team:
            emails.append(a.ae)
        self.w.meetings.append(Meeting(a.account_id, title, kind, at, list(dict.fromkeys(emails))))

    def rand_at(self, a: Account, lo_days: float, hi_days: float) -> datetime:
        return at_hour(self.T - timedelta(days=self.r.uniform(lo_days, hi_days)), self.r)

    # -- per account -----------------------------------------------------------------------------
    def account(self, a: Account) -> None:
        r, T = self.r, self.T
        ps = by_persona(self.w, a)
        buyer = ps["economic_buyer"][0]
        power = ps["power_user"]
        admin = ps["administrator"][0]
        users = [c for p in ("product_user", "power_user", "administrator") for c in ps[p]]
        since = a.customer_since
        # kickoff and onboarding
        if since > T - timedelta(days=420):
            self.meeting(a, "kickoff", at_hour(since + timedelta(days=3), r), [buyer, admin, *power[:1]],
                         f"{a.name} x Relaydesk kickoff", ("csm", "ae"))
            for k, d in enumerate((10, 24), start=1):
                when = at_hour(since + timedelta(days=d), r)
                if when < T:
                    self.meeting(a, "onboarding", when, [admin, *power[:2]], f"{a.name} onboarding session {k}")
        if a.stage != "onboarding":
            at = at_hour(since + timedelta(days=r.randint(30, 60)), r)
            if self.ok(a, at, True) or (at < T - timedelta(days=365) and not a.protected):
                who = r.choice([None, *power[:1], admin])
                self.signal(a, "go_live", at, "positive", N.fill(r.choice(N.GO_LIVE), r), contact=who)
        self.qbrs(a, buyer, power)
        self.nps(a, [buyer, *users])
        self.renewals(a, buyer)
        healthy = a.nrr is None or a.nrr >= 100
        if healthy and a.stage != "churned" and r.random() < 0.3:
            at = self.rand_at(a, 32, 360)
            if self.ok(a, at, True):
                self.signal(a, "expansion", at, "positive", N.fill(r.choice(N.EXPANSION), r),
                            contact=r.choice([None, buyer]))
        if healthy and r.random() < 0.06:
            at = self.rand_at(a, 32, 360)
            if self.ok(a, at, True):
                champ = r.choice([buyer, *power[:1]])
                self.signal(a, "public_win", at, "positive",
                            N.fill(r.choice(N.PUBLIC_WIN), r, story=a.story, first=champ.first, company=a.name),
                            contact=champ)
        if r.random() < 0.25:
            at = self.rand_at(a, 32, 360)
            if self.ok(a, at, True):
                who = r.choice([None, *power[:1]])
                self.signal(a, "milestone", at, "positive",
                            N.fill(r.choice(N.MILESTONE), r, first=(who or buyer).first), contact=who)
        self.problems(a, users)

    def qbrs(self, a: Account, buyer: Contact, power: list[Contact]) -> None:
        r, T = self.r, self.T
        unhealthy = a.nrr is not None and a.nrr < 100
        at = a.customer_since + timedelta(days=90 + r.randint(-5, 5))
        while at < T:
            when = at_hour(at, r, 14, 17)
            if when > T - timedelta(days=365):
                weights = (0.25, 0.35, 0.4) if unhealthy or a.stage == "churned" else (0.55, 0.3, 0.15)
                label = r.choices(("positive", "neutral", "negative"), weights)[0]
                if label == "positive" and when > T - RECENT:
                    label = r.choice(("neutral", "negative"))
                if self.ok(a, when, label == "positive"):
                    account_level = r.random() < 0.85
                    self.signal(a, "qbr", when, label, N.qbr_note(r, label, story=a.story, buyer=buyer.first),
                                contact=None if account_level else buyer, given=0.15)
                    self.meeting(a, "qbr", when, [buyer, *power[: r.randint(1, 2)]],
                                 f"{a.name} quarterly business review", ("csm", "ae") if r.random() < 0.3 else ("csm",))
            at += timedelta(days=91 + r.randint(-6, 6))

    def nps(self, a: Account, people: list[Contact]) -> None:
        r, T = self.r, self.T
        unhealthy = a.nrr is not None and a.nrr < 100
        for wave in NPS_WAVES:
            for c in people:
                if c.planted or r.random() > 0.35:
                    continue
                when = at_hour(T - timedelta(days=wave + r.uniform(-3, 3)), r, 9, 20)
                x = r.random()
                if unhealthy or a.stage == "churned":
                    score = r.randint(0, 6) if x < 0.45 else r.randint(7, 8) if x < 0.8 else r.randint(9, 10)
                else:
                    score = r.randint(9, 10) if x < 0.5 else r.randint(7, 8) if x < 0.82 else r.randint(1, 6)
                if score >= 9 and when > T - RECENT:
                    score = r.randint(7, 8)
                if self.ok(a, when, score >= 9):
                    self.signal(a, "nps", when, N.nps_sentiment(score), N.nps_note(r, score, story=a.story),
                                contact=c, score=float(score), given=0.2)

    def renewals(self, a: Account, buyer: Contact) -> None:
        r, T = self.r, self.T
        at = a.customer_since + timedelta(days=365)
        while at < T:
            if at > T - timedelta(days=400):
                call = at_hour(at - timedelta(days=r.randint(10, 30)), r)
                if call < T and (a.churned_at is None or call < a.churned_at):
                    self.meeting(a, "renewal", call, [buyer], f"{a.name} renewal call", ("csm", "ae"))
                when = at_hour(at, r)
                if r.random() < 0.9 and self.ok(a, when, True):
                    self.signal(a, "renewal", when, "positive", N.fill(r.choice(N.RENEWAL), r),
                                contact=r.choice([None, buyer]))
                neg = at_hour(at - timedelta(days=r.randint(35, 60)), r)
                if r.random() < 0.5 and self.ok(a, neg, False) and neg < T - timedelta(days=40):
                    self.signal(a, "contract_negotiation", neg, "neutral", r.choice(N.NEGOTIATION),
                                resolved=when - timedelta(days=r.randint(1, 5)), given=0.1)
            at += timedelta(days=365)
        if a.stage == "renewal":
            self.meeting(a, "renewal", self.rand_at(a, 2, 25), [buyer], f"{a.name} renewal planning", ("csm", "ae"))
            if not a.protected and r.random() < 0.6:
                self.signal(a, "contract_negotiation", self.rand_at(a, 5, 40), "neutral", r.choice(N.NEGOTIATION),
                            given=0.1)

    def problems(self, a: Account, users: list[Contact]) -> None:
        r, T = self.r, self.T
        for _ in range(min(3, int(r.expovariate(1.4)))):
            at = self.rand_at(a, 1, 360)
            if not self.ok(a, at, False):
                continue
            resolved: datetime | None = at + timedelta(days=r.uniform(0.2, 12))
            if resolved is not None and (resolved > T or (at > T - timedelta(days=20) and r.random() < 0.4)):
                resolved = None
            self.signal(a, "support_escalation", at, "negative", r.choice(N.ESCALATION),
                        contact=r.choice([None, *users[:2]]), resolved=resolved, given=0.3)
        unhealthy = a.nrr is not None and a.nrr < 97
        if a.stage == "churned" and a.churned_at is not None:
            at = at_hour(a.churned_at - timedelta(days=r.randint(30, 90)), r)
            if self.ok(a, at, False):
                self.signal(a, "churn_risk", at, "negative", r.choice(N.CHURN_RISK), given=0.3)
        elif (unhealthy and r.random() < 0.5) or r.random() < 0.08:
            at = self.rand_at(a, 5, 200)
            if self.ok(a, at, False):
                resolved = at + timedelta(days=r.randint(10, 60)) if r.random() < 0.5 else None
                self.signal(a, "churn_risk", at, "negative", r.choice(N.CHURN_RISK),
                            resolved=resolved if resolved and resolved < T else None, given=0.3)
        if unhealthy and r.random() < 0.6:
            at = self.rand_at(a, 10, 300)
            if self.ok(a, at, False):
                self.signal(a, "downgrade", at, "negative", N.fill(r.choice(N.DOWNGRADE), r), given=0.3)
        for c in users:
            if not c.planted and r.random() < 0.03:
                at = self.rand_at(a, 32, 300)
                if self.ok(a, at, True):
                    first, last, _ = person_name(r)
                    self.signal(a, "offboarding", at, "positive",
                                N.fill(r.choice(N.OFFBOARDING), r, first=c.first, company=f"{last} Group"), contact=c)


def background_events(world: World, r: random.Random) -> None:
    bg = Background(world, r)
    for a in world.accounts:
        bg.account(a)


def ask_history(world: World, r: random.Random) -> None:
    """Earlier asks (imported from a previous program) for contacts no scenario uses: at most 3 a year,
    at least 125 days apart, 185 days after a decline."""
    T = world.as_of
    for c in world.contacts:
        a = world.accounts[c.account]
        if c.planted or a.protected or c.extra or r.random() > 0.08:
            continue
        at = at_hour(T - timedelta(days=r.randint(100, 700)), r, 9, 18)
        while at < T - timedelta(days=1):
            outcome = r.choices(("accepted", "declined", "no_response"), (0.5, 0.15, 0.35))[0]
            if at > T - timedelta(days=30) and outcome == "no_response":
                outcome = "pending"
            channel = r.choice(("slack", "email", "qbr", "in_product"))
            world.asks.append(AskRow(c.email, at, outcome, channel, a.csm))
            at += timedelta(days=r.randint(185, 300) if outcome == "declined" else r.randint(125, 260))


def opportunities(world: World, r: random.Random, prospects: list[Company]) -> None:
    T = world.as_of
    live = [c for c in world.contacts if not c.dnc and not c.extra and not c.champion]
    for a in world.accounts:
        if a.customer_since > T - timedelta(days=1100) and r.random() < 0.7:
            created = a.customer_since - timedelta(days=r.randint(30, 120))
            source = r.choices(("outbound", "inbound", "referral", "partner"), (0.35, 0.3, 0.2, 0.15))[0]
            referrer = ""
            if source == "referral":  # a contact of an earlier customer
                for _ in range(20):
                    c = live[r.randrange(len(live))] if live else None
                    if c is not None and world.accounts[c.account].customer_since < created:
                        referrer = c.email
                        break
                source = source if referrer else "inbound"
            elif source == "partner":
                referrer = r.choice(world.partners).contact_email
            world.opportunities.append(Opportunity(a.name, a.domain, "won", a.arr, created, a.customer_since,
                                                   source, referrer))
    n_open = max(3, len(world.accounts) * 3 // 10)
    n_lost = max(2, len(world.accounts) // 4)
    picks = r.sample(prospects, min(len(prospects), n_open + n_lost)) if prospects else []
    for i, co in enumerate(picks):
        is_open = i < n_open
        created = at_hour(T - timedelta(days=r.randint(5, 200) if is_open else r.randint(60, 700)), r, 9, 18)
        stage = r.choice(("prospecting", "discovery", "evaluation", "negotiation")) if is_open else "lost"
        closed = None if is_open else min(T - timedelta(days=1), created + timedelta(days=r.randint(20, 120)))
        source = r.choices(("outbound", "inbound", "referral", "partner"), (0.4, 0.25, 0.25, 0.1))[0]
        referrer = r.choice(live).email if source == "referral" and live else ""
        if source == "partner":
            referrer = r.choice(world.partners).contact_email
        amount = round(co.employees * r.uniform(30, 100) / 500) * 500
        world.opportunities.append(Opportunity(co.name, co.domain, stage, float(max(amount, 6000)), created, closed,
                                               source, referrer))
