"""Planted scan scenarios: the moments in the 30-day lookback, decided one by one, with the data that
makes each come out as planned (docs/rules.md).

Every scenario owns its accounts (`protected`: background noise stays older than 120 days and
resolved there) and its contacts (`planted`). For each contact with a positive moment the scenario
states every skip reason that applies, in precedence order; none means the ask is due. Nothing here
runs the engine: the truth follows from what is written.

Special accounts (one condition each): unhealthy (x2), churn risk, downgrade + negotiation, churned,
onboarding (x2, one also escalated), onboarding but live (an ask), negotiation (x2), escalation open /
recently resolved, account-level detractor, a week without usage, an account-level QBR with
attendees, an account-level expansion. "Clean" accounts (healthy, each with a harmless control such
as an escalation resolved 20 days ago, NRR exactly 100 or empty, a detractor colleague) host the
contact-level cases: asks of every trigger type, window boundaries, cadence and do-not-contact skips.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from warmintro.demo import notes as N
from warmintro.demo.model import SKIP_REASONS, Account, AskRow, Contact, Meeting, PlantedMoment, Signal, World

FLAVOURS = ("plain", "escalation_resolved", "churn_resolved", "negotiation_resolved", "nrr_empty", "nrr_100",
            "renewal_stage", "detractor_colleague")
PER_CLEAN_ACCOUNT = 3
MIN_ACCOUNTS = 30


class Planter:
    def __init__(self, world: World, r: random.Random) -> None:
        self.w = world
        self.r = r
        self.T = world.as_of
        eligible = [a for a in world.accounts if self.eligible(a)]
        others = [a for a in world.accounts if not self.eligible(a)]
        r.shuffle(eligible)
        r.shuffle(others)
        self.pool = others + eligible  # taken from the end: eligible accounts first
        self.clean: list[Account] = []
        self.clean_i = 0

    # -- accounts and contacts -------------------------------------------------------------------
    def eligible(self, a: Account) -> bool:
        return a.stage in ("active", "renewal") and a.customer_since < self.T - timedelta(days=200)

    def take(self, label: str) -> Account:
        if not self.pool:
            raise ValueError(f"not enough accounts for the planted scenarios: use at least {MIN_ACCOUNTS}")
        a = self.pool.pop()
        if not self.eligible(a):  # a small workspace: make an established customer of it
            a.stage, a.churned_at = "active", None
            since = self.T - timedelta(days=self.r.randint(300, 1200))
            a.customer_since = since.replace(hour=0, minute=0, second=0, microsecond=0)
            a.renewal_date = a.customer_since
            while a.renewal_date <= self.T:
                a.renewal_date += timedelta(days=365)
        a.protected = True
        if a.nrr is None or a.nrr < 100:
            a.nrr = float(self.r.randint(101, 135))
        a.health = max(a.health, float(self.r.randint(65, 92)))
        self.w.scenario_notes.append({"account_id": a.account_id, "scenario": label})
        return a

    def onboarding(self, a: Account) -> None:
        a.stage = "onboarding"
        a.customer_since = (self.T - timedelta(days=80)).replace(hour=0, minute=0, second=0, microsecond=0)
        a.renewal_date = a.customer_since + timedelta(days=365)
        a.nrr = None

    def contact(self, a: Account, personas: tuple[str, ...] = (), *, dnc: bool = False) -> Contact:
        free = [self.w.contacts[i] for i in a.contacts if not self.w.contacts[i].planted]
        if not free:
            raise ValueError(f"no free contact left at {a.account_id}")
        pick = next((c for p in personas for c in free if c.persona == p), free[0])
        pick.planted = True
        pick.dnc = dnc
        return pick

    def clean_contact(self, personas: tuple[str, ...] = (), *, dnc: bool = False) -> Contact:
        """A contact at a clean account (healthy, no account-level condition), by persona preference."""
        for _ in range(2):
            for a in self.clean:
                used = sum(1 for i in a.contacts if self.w.contacts[i].planted)
                has = any(not self.w.contacts[i].planted and self.w.contacts[i].persona in personas
                          for i in a.contacts)
                if used < PER_CLEAN_ACCOUNT and (has or not personas):
                    return self.contact(a, personas, dnc=dnc)
            self.new_clean()
        return self.contact(self.new_clean(), personas, dnc=dnc)

    def new_clean(self) -> Account:
        flavour = FLAVOURS[len(self.clean) % len(FLAVOURS)]
        a = self.take(f"clean account ({flavour})")
        self.clean.append(a)
        self.flavour(a, flavour)
        return a

    def flavour(self, a: Account, flavour: str) -> None:
        r = self.r
        if flavour == "escalation_resolved":
            self.sig(a, "support_escalation", self.T - timedelta(days=25), "negative", r.choice(N.ESCALATION),
                     resolved=self.T - timedelta(days=20))
        elif flavour == "churn_resolved":
            self.sig(a, "churn_risk", self.T - timedelta(days=60), "negative", r.choice(N.CHURN_RISK),
                     resolved=self.T - timedelta(days=30))
        elif flavour == "negotiation_resolved":
            self.sig(a, "contract_negotiation", self.T - timedelta(days=70), "neutral", r.choice(N.NEGOTIATION),
                     resolved=self.T - timedelta(days=40))
        elif flavour == "nrr_empty":
            a.nrr = None
        elif flavour == "nrr_100":
            a.nrr = 100.0
        elif flavour == "renewal_stage":
            a.stage = "renewal"
        elif flavour == "detractor_colleague":
            c = self.contact(a, ("product_user", "power_user"))
            self.sig(a, "nps", self.T - timedelta(days=20), "negative", r.choice(N.NPS_DETRACTOR), contact=c,
                     score=3.0)

    # -- signals ---------------------------------------------------------------------------------
    def sig(self, a: Account, type_: str, at: datetime, label: str, notes: str, *, contact: Contact | None = None,
            score: float | None = None, resolved: datetime | None = None, given: bool = False) -> Signal:
        s = Signal(a.account_id, type_, at, contact.email if contact else "", score, label if given else "",
                   notes, resolved, label)
        self.w.signals.append(s)
        return s

    def fresh(self) -> datetime:
        return self.T - timedelta(minutes=self.r.randint(90, 40 * 60))

    def _moment_builder(self, type_: str) -> Callable[[Contact], tuple[Signal, list[str]]]:
        """A case builder that plants one `type_` moment and nothing else."""
        def build(c: Contact) -> tuple[Signal, list[str]]:
            return self.moment(c, type_), []
        return build

    def moment(self, c: Contact, type_: str, at: datetime | None = None, *, account_level: bool = False,
               score: float | None = None, notes: str | None = None) -> Signal:
        a = self.w.accounts[c.account]
        r = self.r
        at = at or self.fresh()
        buyer = next((self.w.contacts[i].first for i in a.contacts
                      if self.w.contacts[i].persona == "economic_buyer"), c.first)
        if type_ == "nps":
            score = score if score is not None else float(r.choice((9, 10, 10)))
            text = notes if notes is not None else N.nps_note(r, int(score), story=a.story)
            return self.sig(a, "nps", at, N.nps_sentiment(int(score)), text, contact=c, score=score,
                            given=r.random() < 0.2)
        if type_ == "qbr":
            text = notes if notes is not None else N.qbr_note(r, "positive", story=a.story, buyer=buyer)
            s = self.sig(a, "qbr", at, "positive", text, contact=None if account_level else c)
            return s
        pools: dict[str, tuple[str, ...]] = {
            "go_live": N.GO_LIVE, "expansion": N.EXPANSION, "renewal": N.RENEWAL, "public_win": N.PUBLIC_WIN,
            "milestone": N.MILESTONE, "offboarding": N.OFFBOARDING,
        }
        text = notes if notes is not None else N.fill(r.choice(pools[type_]), r, story=a.story, first=c.first,
                                                      company=a.name if type_ != "offboarding" else "a new company")
        return self.sig(a, type_, at, "positive", text, contact=None if account_level else c,
                        given=r.random() < 0.25)

    def qbr_meeting(self, a: Account, at: datetime, people: list[Contact]) -> None:
        self.w.meetings.append(Meeting(a.account_id, f"{a.name} quarterly business review", "qbr", at,
                                       [*(c.email for c in people), a.csm]))

    def ask(self, c: Contact, days_ago: float, outcome: str) -> None:
        a = self.w.accounts[c.account]
        at = (self.T - timedelta(days=days_ago)).replace(minute=0, second=0, microsecond=0)
        self.w.asks.append(AskRow(c.email, at, outcome, self.r.choice(("slack", "email", "qbr")), a.csm))

    def plant(self, c: Contact, trigger: Signal, reasons: list[str], scenario: str) -> None:
        if self.T - trigger.at > timedelta(hours=48) and "window_expired" not in reasons:
            reasons = [*reasons, "window_expired"]
        reasons = sorted(set(reasons), key=SKIP_REASONS.index)
        self.w.moments.append(PlantedMoment(c.index, c.account, trigger, reasons, scenario))

    # -- the scenarios ---------------------------------------------------------------------------
    def special_accounts(self) -> None:
        r, T = self.r, self.T
        u1 = self.take("unhealthy (NRR 85)")
        u1.nrr = 85.0
        c = self.contact(u1, ("power_user",))
        self.plant(c, self.moment(c, "nps"), ["unhealthy"], "promoter at an unhealthy account")
        c = self.contact(u1, ("product_user",), dnc=True)
        self.plant(c, self.moment(c, "nps"), ["do_not_contact", "unhealthy"], "do-not-contact beats unhealthy")

        u2 = self.take("unhealthy (NRR 92) and escalated")
        u2.nrr = 92.0
        self.sig(u2, "support_escalation", T - timedelta(days=6), "negative", r.choice(N.ESCALATION))
        c = self.contact(u2, ("economic_buyer",))
        self.plant(c, self.moment(c, "renewal"), ["unhealthy", "escalation"], "unhealthy beats escalation")

        c1 = self.take("open churn risk")
        self.sig(c1, "churn_risk", T - timedelta(days=20), "negative", r.choice(N.CHURN_RISK), given=True)
        c = self.contact(c1, ("power_user",))
        self.plant(c, self.moment(c, "nps"), ["churn_risk"], "open churn risk")

        c2 = self.take("downgrade and open negotiation")
        self.sig(c2, "downgrade", T - timedelta(days=40), "negative", N.fill(r.choice(N.DOWNGRADE), r))
        self.sig(c2, "contract_negotiation", T - timedelta(days=25), "neutral", r.choice(N.NEGOTIATION))
        c = self.contact(c2, ("economic_buyer",))
        self.plant(c, self.moment(c, "expansion"), ["churn_risk", "negotiation"], "downgrade beats negotiation")

        c3 = self.take("churned")
        c3.stage, c3.nrr, c3.health = "churned", None, 24.0
        c3.churned_at = (T - timedelta(days=150)).replace(hour=0, minute=0, second=0, microsecond=0)
        c3.renewal_date = c3.churned_at
        c = self.contact(c3, ("economic_buyer",))
        self.plant(c, self.moment(c, "nps", score=9.0), ["churn_risk", "inactive"], "churned account (no usage)")

        o1 = self.take("onboarding, not live")
        self.onboarding(o1)
        c = self.contact(o1, ("power_user",))
        at = self.fresh()
        self.plant(c, self.moment(c, "qbr", at), ["onboarding"], "positive QBR while onboarding")
        self.qbr_meeting(o1, at, [c])

        o2 = self.take("onboarding and escalated")
        self.onboarding(o2)
        self.sig(o2, "support_escalation", T - timedelta(days=4), "negative", r.choice(N.ESCALATION))
        c = self.contact(o2, ("product_user",))
        self.plant(c, self.moment(c, "nps"), ["onboarding", "escalation"], "onboarding beats escalation")

        o3 = self.take("onboarding stage but live")
        self.onboarding(o3)
        c = self.contact(o3, ("administrator",))
        self.plant(c, self.moment(c, "go_live"), [], "go-live: the onboarding rule no longer applies")

        n1 = self.take("open negotiation")
        self.sig(n1, "contract_negotiation", T - timedelta(days=15), "neutral", r.choice(N.NEGOTIATION))
        c = self.contact(n1, ("power_user",))
        self.plant(c, self.moment(c, "milestone"), ["negotiation"], "in negotiation")

        n2 = self.take("negotiation open for months")
        self.sig(n2, "contract_negotiation", T - timedelta(days=200), "neutral", r.choice(N.NEGOTIATION))
        c = self.contact(n2, ("economic_buyer",))
        self.plant(c, self.moment(c, "nps", T - timedelta(days=9), score=9.0), ["negotiation"],
                   "negotiation beats an expired window")

        e1 = self.take("open escalation")
        self.sig(e1, "support_escalation", T - timedelta(days=3), "negative", r.choice(N.ESCALATION), given=True)
        c = self.contact(e1, ("power_user",))
        self.plant(c, self.moment(c, "nps"), ["escalation"], "open escalation")

        e2 = self.take("escalation resolved 5 days ago")
        self.sig(e2, "support_escalation", T - timedelta(days=12), "negative", r.choice(N.ESCALATION),
                 resolved=T - timedelta(days=5))
        c = self.contact(e2, ("power_user", "economic_buyer"))
        self.plant(c, self.moment(c, "public_win"), ["escalation"], "escalation inside the quiet period")

        d1 = self.take("account-level detractor")
        self.sig(d1, "nps", T - timedelta(days=30), "negative", r.choice(N.NPS_DETRACTOR), score=2.0)
        c = self.contact(d1, ("economic_buyer",))
        self.plant(c, self.moment(c, "renewal"), ["detractor"], "account-level detractor in 90 days")

        i1 = self.take("a week without usage")
        i1.gap = (6, 15)
        c = self.contact(i1, ("power_user",))
        self.plant(c, self.moment(c, "nps", score=10.0), ["inactive"], "account idle for a week")

        qa = self.take("account-level positive QBR")
        buyer = self.contact(qa, ("economic_buyer",))
        power = self.contact(qa, ("power_user",))
        at = self.fresh()
        s = self.moment(buyer, "qbr", at, account_level=True)
        self.qbr_meeting(qa, at, [buyer, power])
        for c in (buyer, power):
            self.plant(c, s, [], "account-level QBR: applies to the attendees")

        xa = self.take("account-level expansion")
        members = [self.w.contacts[i] for i in xa.contacts]
        for c in members:
            c.planted, c.dnc = True, False
        members[-1].dnc = True
        s = self.moment(members[0], "expansion", account_level=True)
        for c in members:
            self.plant(c, s, ["do_not_contact"] if c.dnc else [], "account-level expansion: applies to all")

    def clean_cases(self, extra_asks: int) -> None:
        T = self.T
        cc = self.clean_contact

        def case(personas: tuple[str, ...], build: Callable[[Contact], tuple[Signal, list[str]]], name: str,
                 dnc: bool = False) -> Contact:
            c = cc(personas, dnc=dnc)
            trigger, reasons = build(c)
            self.plant(c, trigger, reasons, name)
            return c

        # asks, one per trigger type and boundary
        case(("power_user",), lambda c: (self.moment(c, "nps", score=10.0), []), "NPS 10 from a power user")
        case(("economic_buyer",), lambda c: (self.moment(c, "nps", score=9.0), []), "NPS 9 from the buyer")
        case(("product_user",), lambda c: (self.moment(c, "qbr", notes=N.QBR_POSITIVE[5].format(buyer=c.first)), []),
             "negated-negative QBR note ('no complaints')")
        case(("economic_buyer",), lambda c: (self.moment(c, "renewal"), []), "renewal")
        case(("power_user",), lambda c: (self.moment(c, "public_win"), []), "public win")
        case(("power_user", "administrator"), lambda c: (self.moment(c, "milestone"), []), "milestone")
        case(("product_user",), lambda c: (self.moment(c, "offboarding"), []), "happy user leaving")
        case(("product_user", "power_user"), lambda c: (self.moment(c, "nps", T - timedelta(hours=48), score=9.0), []),
             "window boundary: exactly 48 h ago is still due")

        def expired_then_fresh(c: Contact) -> tuple[Signal, list[str]]:
            self.moment(c, "milestone", T - timedelta(days=6))
            return self.moment(c, "nps", T - timedelta(hours=10), score=10.0), []

        case(("power_user",), expired_then_fresh, "expired moment plus a fresh one: the fresh one counts")

        def two_open(c: Contact) -> tuple[Signal, list[str]]:
            self.moment(c, "expansion", T - timedelta(hours=30))
            return self.moment(c, "nps", T - timedelta(hours=5), score=10.0), []

        case(("economic_buyer",), two_open, "two open moments: the most recent counts")

        def old_decline(c: Contact) -> tuple[Signal, list[str]]:
            self.ask(c, 200, "declined")
            return self.moment(c, "nps"), []

        case(("power_user", "product_user"), old_decline, "decline 200 days ago: cool-down over")

        def two_asks(c: Contact) -> tuple[Signal, list[str]]:
            self.ask(c, 300, "accepted")
            self.ask(c, 100, "no_response")
            return self.moment(c, "milestone"), []

        case(("power_user", "product_user"), two_asks, "two asks this year, last 100 days ago")

        def old_detractor(c: Contact) -> tuple[Signal, list[str]]:
            a = self.w.accounts[c.account]
            self.sig(a, "nps", T - timedelta(days=100), "negative", self.r.choice(N.NPS_DETRACTOR), contact=c,
                     score=4.0)
            return self.moment(c, "nps", score=10.0), []

        case(("product_user", "power_user"), old_detractor, "detractor 100 days ago: outside 90 days")
        for i in range(extra_asks):
            kind = ("nps", "qbr", "renewal", "milestone", "expansion", "public_win")[i % 6]
            persona = ("power_user", "product_user", "economic_buyer", "administrator")[i % 4]
            case((persona,), self._moment_builder(kind), f"{kind} ask")

        # skips on clean accounts
        case(("product_user",), lambda c: (self.moment(c, "nps"), ["do_not_contact"]), "do-not-contact", dnc=True)

        def detractor(c: Contact, ask_days: float | None = None) -> tuple[Signal, list[str]]:
            a = self.w.accounts[c.account]
            self.sig(a, "nps", T - timedelta(days=50), "negative", self.r.choice(N.NPS_DETRACTOR), contact=c,
                     score=3.0)
            if ask_days is not None:
                self.ask(c, ask_days, "accepted")
                return self.moment(c, "qbr"), ["detractor", "too_soon"]
            return self.moment(c, "milestone"), ["detractor"]

        case(("power_user", "product_user"), detractor, "their own NPS 3 fifty days ago")
        case(("product_user", "power_user"), lambda c: detractor(c, 30), "detractor beats too soon")

        def idle(c: Contact, decline: bool = False) -> tuple[Signal, list[str]]:
            c.idle_days = 40
            if decline:
                self.ask(c, 100, "declined")
                return self.moment(c, "nps"), ["inactive", "decline_cooldown"]
            return self.moment(c, "milestone"), ["inactive"]

        case(("administrator",), idle, "administrator with no usage for 40 days")
        case(("administrator",), lambda c: idle(c, True), "inactive beats decline cool-down")

        def cadence(c: Contact, asks: tuple[tuple[float, str], ...], reasons: list[str]) -> tuple[Signal, list[str]]:
            for days, outcome in asks:
                self.ask(c, days, outcome)
            return self.moment(c, "nps"), reasons

        case(("power_user", "product_user"), lambda c: cadence(c, ((120, "declined"),), ["decline_cooldown"]),
             "declined 120 days ago")
        case(("product_user", "power_user"), lambda c: cadence(c, ((45, "declined"),), ["decline_cooldown", "too_soon"]),
             "decline cool-down beats too soon")
        case(("power_user", "economic_buyer"),
             lambda c: cadence(c, ((350, "accepted"), (230, "no_response"), (110, "accepted")), ["cadence_limit"]),
             "three asks in a year")
        case(("economic_buyer", "power_user"),
             lambda c: cadence(c, ((330, "accepted"), (200, "accepted"), (60, "no_response")),
                               ["cadence_limit", "too_soon"]),
             "cadence limit beats too soon")
        case(("product_user",), lambda c: cadence(c, ((30, "accepted"),), ["too_soon"]), "asked 30 days ago")
        case(("power_user", "product_user"), lambda c: cadence(c, ((89, "pending"),), ["too_soon"]),
             "asked 89 days ago")
        case(("power_user",), lambda c: (self.moment(c, "nps", T - timedelta(days=5), score=10.0), []),
             "promoter 5 days ago: window expired")
        case(("economic_buyer", "product_user"),
             lambda c: (self.moment(c, "milestone", T - timedelta(hours=48, minutes=1)), []),
             "window boundary: 48 h and a minute ago")

        # controls that must not show up in the scan at all
        c = cc(("product_user",))
        a = self.w.accounts[c.account]
        self.sig(a, "qbr", T - timedelta(days=3), "negative", N.QBR_NEGATIVE[1], contact=c)
        c = cc(("power_user", "product_user"))
        self.moment(c, "nps", score=8.0)
        c = cc(("economic_buyer",))
        a = self.w.accounts[c.account]
        at = T - timedelta(days=2, hours=3)
        self.sig(a, "qbr", at, "neutral", N.QBR_MIXED[0])
        self.qbr_meeting(a, at, [c])


def plant_scenarios(world: World, r: random.Random) -> None:
    if len(world.accounts) < MIN_ACCOUNTS:
        raise ValueError(f"the demo needs at least {MIN_ACCOUNTS} accounts for its planted scenarios "
                         f"(got {len(world.accounts)})")
    p = Planter(world, r)
    p.special_accounts()
    p.clean_cases(extra_asks=len(world.accounts) // 25)
