"""The vendor, its team, partners and program.toml, the customer accounts, and the network's companies."""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import datetime, timedelta

from warmintro.demo.model import Account, Company, Job, Partner, PlantedPerson, TeamMember, Vendor, World
from warmintro.demo.names import (
    CITIES,
    COMPANY_MIDDLES,
    COMPANY_PREFIXES,
    FIRST_NAMES,
    ICP_COUNTRIES,
    ICP_INDUSTRIES,
    INDUSTRY_NOUNS,
    LAST_NAMES,
    OTHER_CITIES,
    OTHER_INDUSTRIES,
    slug,
)
from warmintro.demo.notes import STORIES

VENDOR = Vendor(
    name="Relaydesk",
    domain="relaydesk.io",
    one_liner="Relaydesk routes every customer request to the right person, with SLAs, automations and "
              "reporting for operations and support teams",
)
COMPETITORS: tuple[tuple[str, str], ...] = (
    ("Queuehive", "queuehive.com"), ("Ticketloom", "ticketloom.io"), ("Routeforge", "routeforge.com"),
)
ICP_FUNCTIONS: tuple[str, ...] = ("ops", "revops", "cs", "it")
ICP_SENIORITIES: tuple[str, ...] = ("manager", "director", "vp", "cxo")
ICP_TITLE_KEYWORDS: tuple[str, ...] = (
    "operations", "ops", "support", "customer success", "systems", "logistics", "revops", "service",
)
ICP_EMPLOYEES = (200, 5000)

INVESTOR_FIRMS: tuple[tuple[str, str], ...] = (
    ("Northpeak Ventures", "northpeak.vc"), ("Harborlight Capital", "harborlight.capital"),
    ("Seedling Partners", "seedlingpartners.vc"),
)
PARTNER_FIRMS: tuple[tuple[str, str, str, str, bool, float | None], ...] = (
    # name, domain, kind, tier, certified, commission override
    ("Brightpath Consulting", "brightpath-consulting.com", "implementation", "gold", True, None),
    ("Fieldstone Partners", "fieldstonepartners.com", "implementation", "silver", True, None),
    ("Opsmith", "opsmith.io", "implementation", "bronze", False, 20.0),
    ("Stackline", "stackline.dev", "technology", "gold", True, None),
    ("Signalhouse Agency", "signalhouse.agency", "agency", "silver", False, 12.5),
    ("Ops Leaders Collective", "opsleaders.community", "community", "", False, 5.0),
    ("Warm Circle Referrals", "warmcircle.co", "referral", "gold", True, None),
    ("Northpeak Ventures", "northpeak.vc", "investor", "", False, None),
)
TLDS: tuple[str, ...] = (".com", ".com", ".com", ".com", ".io", ".co", ".net")
ACCOUNT_STAGES: tuple[tuple[str, float], ...] = (("active", 0.68), ("renewal", 0.14), ("onboarding", 0.1),
                                                 ("churned", 0.08))


class Namer:
    """Unique fictional company names and domains (and unique email addresses)."""

    def __init__(self, r: random.Random, world: World) -> None:
        self.r = r
        self.world = world
        self.names: set[str] = set()

    def company(self, industry: str) -> tuple[str, str]:
        r = self.r
        nouns = INDUSTRY_NOUNS[industry]
        for attempt in range(400):
            prefix = r.choice(COMPANY_PREFIXES)
            noun = r.choice(nouns)
            if attempt < 8:
                name = f"{prefix} {noun}"
            elif attempt < 200:
                name = f"{prefix} {r.choice(COMPANY_MIDDLES)} {noun}"
            else:
                name = f"{prefix} {r.choice(COMPANY_MIDDLES)} {r.choice(COMPANY_PREFIXES)} {noun}"
            if name in self.names:
                continue
            base = slug(name)
            first = ".io" if industry == "Software" and r.random() < 0.5 else r.choice(TLDS)
            for tld in (first, ".com", ".co", ".io", ".net"):
                domain = base + tld
                if domain not in self.world.used_domains:
                    self.names.add(name)
                    self.world.used_domains.add(domain)
                    return name, domain
        raise RuntimeError("ran out of company names")  # pragma: no cover

    def email(self, first: str, last: str, domain: str, style: str = "first.last") -> str:
        f, la = slug(first), slug(last)
        bases = {"first.last": f"{f}.{la}", "first": f, "flast": f"{f[:1]}{la}"}
        base = bases.get(style, f"{f}.{la}")
        candidates = itertools.chain((base, f"{f}.{la}", f"{f}{la}", f"{f[:1]}.{la}"),
                                     (f"{f}.{la}{n}" for n in range(2, 100_000)))
        for local in candidates:
            email = f"{local}@{domain}"
            if email not in self.world.used_emails:
                self.world.used_emails.add(email)
                return email
        raise RuntimeError("ran out of email addresses")  # pragma: no cover


def person_name(r: random.Random) -> tuple[str, str, str]:
    first, gender = r.choice(FIRST_NAMES)
    return first, r.choice(LAST_NAMES), gender


def city(r: random.Random, icp: bool = True) -> str:
    c, country = r.choice(CITIES if icp else OTHER_CITIES)
    return f"{c}, {country}"


def slack_id(r: random.Random) -> str:
    return "U0" + "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))


def new_world(as_of: datetime, seed: int) -> World:
    world = World(as_of=as_of, seed=seed, vendor=VENDOR, competitors=[], icp={})
    world.used_domains |= {VENDOR.domain, *(d for _, d in COMPETITORS), *(d for _, d in INVESTOR_FIRMS),
                           *(p[1] for p in PARTNER_FIRMS)}
    world.competitors = [Company(n, d, "Software", e, city_) for (n, d), e, city_ in zip(
        COMPETITORS, (420, 1300, 260), ("Austin, United States", "London, United Kingdom", "Denver, United States"),
        strict=True)]
    world.icp = {
        "industries": list(ICP_INDUSTRIES), "employees_min": ICP_EMPLOYEES[0], "employees_max": ICP_EMPLOYEES[1],
        "functions": list(ICP_FUNCTIONS), "seniorities": list(ICP_SENIORITIES),
        "title_keywords": list(ICP_TITLE_KEYWORDS), "exclude_domains": [d for _, d in COMPETITORS],
        "locations": list(ICP_COUNTRIES),
    }
    return world


def program_toml(world: World) -> str:
    def arr(xs: list[str]) -> str:
        return "[" + ", ".join(json.dumps(x, ensure_ascii=False) for x in xs) + "]"

    v, icp = world.vendor, world.icp
    return "\n".join([
        "# Demo workspace: a fictional vendor and its customers. Rules use the defaults (docs/rules.md).",
        "[vendor]",
        f"name = {json.dumps(v.name)}",
        f"domain = {json.dumps(v.domain)}",
        f"one_liner = {json.dumps(v.one_liner)}",
        "demo = true  # a generated demo workspace (warmintro demo recognises its own store by this)",
        "",
        "[icp]",
        f"industries = {arr(icp['industries'])}",
        f"employees_min = {icp['employees_min']}",
        f"employees_max = {icp['employees_max']}",
        f"functions = {arr(icp['functions'])}",
        f"seniorities = {arr(icp['seniorities'])}",
        f"title_keywords = {arr(icp['title_keywords'])}",
        f"exclude_domains = {arr(icp['exclude_domains'])}",
        f"locations = {arr(icp['locations'])}",
        "",
    ])


# ---------------------------------------------------------------------------------------------------
# Team and partners

TEAM_TITLES = {
    "csm": "Customer Success Manager", "ae": "Account Executive", "sdr": "Sales Development Representative",
    "revops": "Revenue Operations Manager", "admin": "Business Systems Administrator",
}
EMPLOYEE_TITLES = ("Chief Executive Officer", "VP Customer Success", "Head of Marketing", "VP Product")


def make_team(world: World, r: random.Random, namer: Namer, accounts: int) -> None:
    n_csm = max(6, accounts // 60)
    n_ae = max(5, accounts // 80)
    plan = [("csm", n_csm), ("ae", n_ae), ("sdr", 2), ("revops", 1), ("admin", 1), ("employee", 4)]
    firsts_used: set[str] = set()
    for role, n in plan:
        for i in range(n):
            first, last, gender = person_name(r)
            style = "first" if first not in firsts_used else "first.last"
            firsts_used.add(first)
            email = namer.email(first, last, world.vendor.domain, style)
            title = EMPLOYEE_TITLES[i % len(EMPLOYEE_TITLES)] if role == "employee" else TEAM_TITLES[role]
            world.team.append(TeamMember(email, first, last, gender, role, slack_id(r), title))
    for firm, domain in INVESTOR_FIRMS:
        first, last, gender = person_name(r)
        world.team.append(TeamMember(namer.email(first, last, domain, "first"), first, last, gender, "investor",
                                     "", f"Partner, {firm}"))
    for _ in range(3):
        first, last, gender = person_name(r)
        domain = f"{slug(last)}advisory.com"
        world.used_domains.add(domain)
        world.team.append(TeamMember(namer.email(first, last, domain, "first"), first, last, gender, "advisor",
                                     slack_id(r) if r.random() < 0.5 else "", "Advisor"))


def make_partners(world: World, r: random.Random, namer: Namer) -> None:
    for i, (name, domain, kind, tier, certified, rate) in enumerate(PARTNER_FIRMS, start=1):
        first, last, gender = person_name(r)
        email = namer.email(first, last, domain, "first")
        world.partners.append(Partner(f"PTN-{i:02d}", name, domain, kind, tier, certified, email, rate))
        title = "Partner lead" if kind in ("implementation", "referral") else "Partnerships Manager"
        person = PlantedPerson(email, first, last, gender, name, domain, title, "manager", "sales",
                               "Professional Services", r.randint(15, 400), city(r))
        start = world.as_of.date().replace(day=1) - timedelta(days=r.randint(200, 2000))
        person.jobs = [Job(name, domain, title, start)]
        world.planted_people.append(person)
        if kind == "implementation" and i <= 2:  # the two gold/silver SIs are on the team roster too
            world.team.append(TeamMember(email, first, last, gender, "partner", "", f"Partner lead, {name}"))


# ---------------------------------------------------------------------------------------------------
# Accounts

def _stage(r: random.Random) -> str:
    x = r.random()
    for stage, p in ACCOUNT_STAGES:
        if x < p:
            return stage
        x -= p
    return "active"


def _employees(r: random.Random, median: float = 700) -> int:
    return int(min(25_000, max(40, round(math.exp(r.gauss(math.log(median), 0.9)), -1))))


def make_accounts(world: World, r: random.Random, namer: Namer, n: int) -> None:
    T = world.as_of
    csms = [m.email for m in world.team if m.role == "csm"]
    aes = [m.email for m in world.team if m.role == "ae"]
    for i in range(n):
        industry = r.choice(ICP_INDUSTRIES) if r.random() < 0.85 else r.choice(OTHER_INDUSTRIES)
        name, domain = namer.company(industry)
        stage = _stage(r)
        churned_at = None
        if stage == "onboarding":
            since = T - timedelta(days=r.randint(66, 100))
        elif stage == "renewal":
            years = r.randint(1, 4)
            since = T + timedelta(days=r.randint(20, 85)) - timedelta(days=365 * years)
        elif stage == "churned":
            since = T - timedelta(days=r.randint(450, 1500))
            churned_at = T - timedelta(days=r.randint(110, 260))
        else:
            since = T - timedelta(days=r.randint(200, 1600))
        since = since.replace(hour=0, minute=0, second=0, microsecond=0)
        renewal = since
        while renewal <= T:
            renewal += timedelta(days=365)
        if churned_at is not None:
            renewal = churned_at.replace(hour=0, minute=0, second=0, microsecond=0)
        if stage == "churned":
            nrr: float | None = round(min(95, r.gauss(80, 8)))
            health = max(3, min(40, round(r.gauss(22, 10))))
        elif stage == "onboarding":
            nrr = None
            health = max(40, min(95, round(r.gauss(72, 9))))
        else:
            nrr = round(max(70, min(165, r.gauss(108, 13)))) if r.random() > 0.06 else None
            base = 62 + ((nrr or 105) - 100) * 1.1
            health = max(5, min(99, round(r.gauss(base, 9))))
        employees = _employees(r)
        arr = round(employees * r.uniform(35, 110) / 500) * 500
        world.accounts.append(Account(
            index=i, account_id=f"ACC-{i + 1:04d}", name=name, domain=domain, industry=industry,
            employees=employees, arr=float(max(arr, 6000)), nrr=nrr, health=float(health), stage=stage,
            customer_since=since, renewal_date=renewal, csm=r.choice(csms), ae=r.choice(aes),
            story=r.choice(STORIES), location=city(r, r.random() < 0.9), churned_at=churned_at,
        ))


def make_network_companies(world: World, r: random.Random, namer: Namer, n: int) -> list[Company]:
    """The companies the network people work at (no customers, no competitors, no planted ones)."""
    out = []
    for _ in range(n):
        industry = r.choice(ICP_INDUSTRIES) if r.random() < 0.7 else r.choice(OTHER_INDUSTRIES)
        name, domain = namer.company(industry)
        out.append(Company(name, domain, industry, _employees(r, 900), city(r, r.random() < 0.85)))
    return out
