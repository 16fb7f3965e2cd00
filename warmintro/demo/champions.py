"""Planted networks for ~20 champions (contacts with an ask due): who they should name, and who not.

Each champion worked at a former company of their own (no one else in the data worked there), so
their network is exactly what is planted here:
  - 3-5 good targets: former colleagues now at ICP-fit prospects (industry, size, function, seniority,
    location, a title keyword), all alike except the tie, which gets weaker along every dimension at
    once (longer overlap, more recent overlap, more and more recent email) -> a strict order;
  - one decoy per exclusion reason, each failing only that one (or failing an earlier one first):
    same_domain (now at the champion's company), customer (now at another customer), do_not_contact
    (a do-not-contact contact of a churned account), competitor (now at a competitor), recently_referred
    (now at a company referred 40 days ago), outside_icp (now in Education).
Besides, the champion emails and meets only their colleagues and the vendor's team. For the first 8
champions the first target's company is a who-knows case: its one-hop connectors are the champion
plus, in turn, an investor, an advisor, a partner or an employee with a planted tie.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from warmintro.demo.companies import Namer, city
from warmintro.demo.model import Company, Contact, Job, Opportunity, Tie, World
from warmintro.demo.names import ICP_INDUSTRIES
from warmintro.demo.people import add_contact, planted_person

MAX_CHAMPIONS = 20
WHO_KNOWS = 8
ICP_FN = ("ops", "revops", "cs", "it")
# months ago the overlap at the former company starts / ends, email count, days since the last email
GOOD = ((70, 10, 30, 5), (60, 16, 14, 25), (56, 24, 6, 80), (56, 34, 2, 200), (59, 44, 0, 0))
DECOY = (50, 26, 4, 60)
TITLES = {
    ("ops", "manager"): "Operations Manager", ("ops", "vp"): "VP Operations",
    ("cs", "manager"): "Support Operations Manager", ("cs", "vp"): "VP Customer Success",
    ("revops", "manager"): "RevOps Manager", ("revops", "vp"): "VP RevOps",
    ("it", "manager"): "Business Systems Manager", ("it", "vp"): "VP IT Systems",
}
FAMOUS_PROSPECT = ("Stripe", "stripe.com", "Financial Services")
MOVERS = 3  # contacts (not champions) who left their account for an ICP company: `warmintro mobility`
EARLIER = {"manager": "Senior Analyst", "vp": "Director"}


class ChampionPlanter:
    def __init__(self, world: World, r: random.Random, namer: Namer) -> None:
        self.w = world
        self.r = r
        self.namer = namer
        self.T = world.as_of
        self.churned = sorted((a for a in world.accounts if a.stage == "churned"), key=lambda a: a.protected)
        self.live = [a for a in world.accounts if a.stage != "churned"]

    def months(self, k: float) -> date:
        return (self.T - timedelta(days=round(30.44 * k))).date()

    def company(self, industry: str, employees: int) -> Company:
        name, domain = self.namer.company(industry)
        return Company(name, domain, industry, employees, city(self.r))

    def tie(self, a: str, b: str, kind: str, weight: float | None, first: date | None, last: date | None) -> None:
        self.w.planted_ties.append(Tie(a, b, kind, weight, first, last))

    def plant(self, c: Contact, i: int) -> None:
        r, w = self.r, self.w
        a = w.accounts[c.account]
        c.champion = True
        if c.persona == "economic_buyer":
            fn, sen = (c.function if c.function in ICP_FN else "ops"), "vp"
        elif c.persona == "administrator":
            fn, sen = (c.function if c.function in ("it", "revops") else "it"), "manager"
        else:
            fn, sen = (c.function if c.function in ICP_FN else "ops"), "manager"
        title = TITLES[(fn, sen)]
        size = min(max(a.employees, 250), 4800)
        former = self.company(a.industry, r.randint(300, 2500))
        w.contact_jobs[c.index] = [
            Job(a.name, a.domain, c.title, self.months(9), None),
            Job(former.name, former.domain, f"Senior {c.title}" if c.seniority == "ic" else c.title,
                self.months(100), self.months(10)),
        ]
        good: list[str] = []
        first_company: Company | None = None
        for j in range(3 + i % 3):
            start, end, n_mail, last_mail = GOOD[j]
            prospect = self.company(r.choice(ICP_INDUSTRIES), size)
            if i == 0 and j == 0:
                # One well-known prospect, so "who knows someone at stripe.com?" has an answer in the demo.
                prospect = Company(*FAMOUS_PROSPECT, size, prospect.location)
            first_company = first_company or prospect
            p = planted_person(w, r, self.namer, prospect, fn, sen, title=title)
            p.jobs = [Job(former.name, former.domain, EARLIER[sen], self.months(start), self.months(end)),
                      Job(prospect.name, prospect.domain, title, self.months(end - 0.7), None)]
            if n_mail:
                self.tie(c.email, p.email, "email", float(n_mail), self.months(start - 2),
                         (self.T - timedelta(days=last_mail)).date())
            self.tie(c.email, p.email, "linkedin", None, self.months(start - 3), None)
            for _ in range(r.randint(1, 2)):  # a colleague or two, tied to nobody else
                q = planted_person(w, r, self.namer, prospect, r.choice(("finance", "sales", "ops")),
                                   r.choice(("manager", "director")), location=prospect.location)
                q.jobs = [Job(prospect.name, prospect.domain, q.title, self.months(r.randint(12, 70)), None)]
            good.append(p.email)
        excluded = self.decoys(c, former, fn, sen, title, size)
        w.targets[c.email] = {"good": good, "excluded": excluded, "persona": c.persona, "account_id": a.account_id}
        if i < WHO_KNOWS and first_company is not None:
            self.who_knows(c, i, first_company, good[0])

    def move(self, c: Contact) -> None:
        """`c` left their account two months ago for an ICP-fit company (a new account with a friend inside)."""
        r, w = self.r, self.w
        a = w.accounts[c.account]
        new = self.company(r.choice(ICP_INDUSTRIES), min(max(a.employees, 300), 4500))
        current, *earlier = w.contact_jobs[c.index]
        w.contact_jobs[c.index] = [Job(new.name, new.domain, c.title, self.months(2), None),
                                   Job(a.name, a.domain, c.title, min(current.start, self.months(6)), self.months(2.2)),
                                   *earlier]
        for _ in range(2):  # colleagues there, so the new company's industry and size are known
            q = planted_person(w, r, self.namer, new, r.choice(("finance", "ops")), "manager", location=new.location)
            q.jobs = [Job(new.name, new.domain, q.title, self.months(r.randint(12, 60)), None)]
        w.moves[c.email] = {"from_account_id": a.account_id, "to_domain": new.domain, "icp_fit": True}

    def decoys(self, c: Contact, former: Company, fn: str, sen: str, title: str, size: int) -> dict[str, str]:
        r, w = self.r, self.w
        a = w.accounts[c.account]
        out: dict[str, str] = {}
        start, end, n_mail, last_mail = DECOY
        old = Job(former.name, former.domain, EARLIER[sen], self.months(start), self.months(end))

        def person(company: Company, reason: str) -> None:
            p = planted_person(w, r, self.namer, company, fn, sen, title=title,
                               location=company.location if reason != "outside_icp" else city(r))
            p.jobs = [old, Job(company.name, company.domain, title, self.months(end - 1), None)]
            self.link(c, p.email, n_mail, last_mail)
            out[p.email] = reason

        person(Company(a.name, a.domain, a.industry, a.employees, a.location), "same_domain")
        other = [b for b in self.live if b.index != a.index]
        b = other[r.randrange(len(other))]
        person(Company(b.name, b.domain, b.industry, b.employees, b.location), "customer")
        if self.churned:
            pool = [k for k in self.churned if not k.protected] or self.churned
            k = pool[r.randrange(len(pool))]
            d = add_contact(w, r, self.namer, k.index, "economic_buyer", title=("Director of Operations", "ops", "director"))
            d.dnc, d.extra, d.planted = True, True, True
            w.contact_jobs[d.index] = [Job(k.name, k.domain, d.title, self.months(end - 1), None), old]
            self.link(c, d.email, n_mail, last_mail)
            out[d.email] = "do_not_contact"
        person(w.competitors[r.randrange(len(w.competitors))], "competitor")
        referred = self.company(r.choice(ICP_INDUSTRIES), size)
        person(referred, "recently_referred")
        referrers = [x for x in w.contacts if not x.dnc and not x.extra and not x.champion and x.index != c.index]
        w.opportunities.append(Opportunity(
            referred.name, referred.domain, "discovery", float(round(size * 60 / 500) * 500),
            (self.T - timedelta(days=40)).replace(hour=15, minute=0, second=0, microsecond=0), None, "referral",
            referrers[r.randrange(len(referrers))].email if referrers else ""))
        person(self.company("Education", size), "outside_icp")
        return out

    def link(self, c: Contact, email: str, n_mail: int, last_mail: int) -> None:
        self.tie(c.email, email, "email", float(n_mail), self.months(DECOY[0] - 2),
                 (self.T - timedelta(days=last_mail)).date())

    def who_knows(self, c: Contact, i: int, company: Company, target: str) -> None:
        w, T = self.w, self.T
        connectors = [c.email]
        role = ("investor", "advisor", "partner", "employee", "")[i % 5]
        first, last = (T - timedelta(days=800)).date(), (T - timedelta(days=30)).date()
        if role in ("investor", "advisor"):
            m = [x for x in w.team if x.role == role][i % 2]
            self.tie(m.email, target, role, 4.0, first, last)
            connectors.append(m.email)
        elif role == "partner":
            p = [x for x in w.partners if x.kind == "implementation"][i % 2]
            self.tie(p.contact_email, target, "partner", 3.0, first, last)
            connectors.append(p.contact_email)
        elif role == "employee":
            ae = w.accounts[c.account].ae
            self.tie(ae, target, "linkedin", None, first, None)
            connectors.append(ae)
        w.who_knows[company.domain] = connectors


def plant_champions(world: World, r: random.Random, namer: Namer) -> None:
    seen: set[int] = set()
    per_account: dict[int, int] = {}
    champions: list[Contact] = []
    # contact-level triggers first, at most two champions per account
    moments = sorted(world.moments, key=lambda m: m.trigger.contact_email != world.contacts[m.contact].email)
    for m in moments:
        c = world.contacts[m.contact]
        if m.reasons or c.index in seen or c.dnc or world.accounts[c.account].stage == "churned" \
                or per_account.get(c.account, 0) >= 2:
            continue
        seen.add(c.index)
        per_account[c.account] = per_account.get(c.account, 0) + 1
        champions.append(c)
    planter = ChampionPlanter(world, r, namer)
    for i, c in enumerate(champions[:MAX_CHAMPIONS]):
        planter.plant(c, i)
    # From accounts without a champion: a mover is a former colleague, so a champion's real target.
    champion_accounts = {c.account for c in world.contacts if c.champion}
    movers = [c for c in world.contacts if c.account not in champion_accounts and not c.dnc and not c.extra and not c.planted
              and world.accounts[c.account].stage != "churned"
              and c.index not in {m.contact for m in world.moments}]
    for c in movers[:: max(1, len(movers) // MOVERS)][:MOVERS]:
        planter.move(c)
