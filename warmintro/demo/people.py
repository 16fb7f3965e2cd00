"""Customer contacts (4-8 per account covering the four personas), their job histories, and the rows
people.csv / employment.csv get for contacts and for the people the scenarios plant."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date, timedelta

from warmintro.demo.companies import Namer, city, person_name, slack_id
from warmintro.demo.model import PERSONAS, Company, Contact, Job, PlantedPerson, World
from warmintro.demo.names import PERSONA_TITLES, SENIORITIES, TITLES, slug

# Economic-buyer titles that read as a systems role (RevOps) would blur the persona: left out.
_ADMINISH = re.compile(r"revops|revenue operations", re.I)
CONTACT_TITLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    p: tuple(t for t in PERSONA_TITLES[p] if not (p == "economic_buyer" and _ADMINISH.search(t[0])))
    for p in PERSONAS
}
EXTRA_PERSONAS = ("product_user", "power_user", "administrator", "economic_buyer")
EXTRA_WEIGHTS = (0.45, 0.25, 0.12, 0.18)
COUNT_CHOICES = (4, 5, 6, 7, 8)
COUNT_WEIGHTS = (15, 25, 28, 20, 12)
WRONG_ROLE_RATE = 0.10
CRM_ROLE_RATE = 0.60
DNC_RATE = 0.04
SLACK_RATE = 0.5
PEOPLE_HEADER = ("email", "name", "company", "domain", "title", "seniority", "function", "industry",
                 "company_employees", "location", "linkedin_url")
EMPLOYMENT_HEADER = ("email", "company", "domain", "title", "start", "end")


def contact_counts(r: random.Random, accounts: int, total: int | None) -> list[int]:
    if total is None:
        return [r.choices(COUNT_CHOICES, COUNT_WEIGHTS)[0] for _ in range(accounts)]
    total = max(total, 4 * accounts)
    base, extra = divmod(total, accounts)
    counts = [base] * accounts
    for i in r.sample(range(accounts), extra):
        counts[i] += 1
    return counts


def make_contacts(world: World, r: random.Random, namer: Namer, total: int | None) -> None:
    counts = contact_counts(r, len(world.accounts), total)
    for account, n in zip(world.accounts, counts, strict=True):
        style = r.choices(("first.last", "flast", "first"), (0.7, 0.2, 0.1))[0]
        personas = list(PERSONAS) + r.choices(EXTRA_PERSONAS, EXTRA_WEIGHTS, k=n - 4)
        r.shuffle(personas)
        for persona in personas:
            add_contact(world, r, namer, account.index, persona, style=style)


def add_contact(world: World, r: random.Random, namer: Namer, account_index: int, persona: str, *,
                style: str = "first.last", title: tuple[str, str, str] | None = None) -> Contact:
    account = world.accounts[account_index]
    first, last, gender = person_name(r)
    title_, function, seniority = title or r.choice(CONTACT_TITLES[persona])
    crm_role = ""
    if r.random() < CRM_ROLE_RATE:
        crm_role = persona
        if r.random() < WRONG_ROLE_RATE:
            crm_role = r.choice([p for p in (*PERSONAS, "other") if p != persona])
    i = len(world.contacts)
    c = Contact(
        index=i, contact_id=f"C-{i + 1:05d}", account=account_index, first=first, last=last, gender=gender,
        email=namer.email(first, last, account.domain, style), title=title_, function=function,
        seniority=seniority, persona=persona, crm_role=crm_role, dnc=r.random() < DNC_RATE,
        slack_user_id=slack_id(r) if r.random() < SLACK_RATE else "",
        location=account.location if r.random() < 0.7 else city(r),
    )
    world.contacts.append(c)
    account.contacts.append(i)
    return c


def _title(r: random.Random, function: str, seniority: str) -> str:
    return r.choice(TITLES[function][seniority])


def _lower(seniority: str, r: random.Random) -> str:
    i = SENIORITIES.index(seniority)
    return SENIORITIES[max(0, i - (1 if r.random() < 0.6 else 0))]


def month_start(d: date) -> date:
    return d.replace(day=1)


def make_contact_jobs(world: World, r: random.Random, companies: list[Company]) -> None:
    """Current job at the account and 1-3 earlier jobs at network companies (champions get theirs from
    the scenarios, which replace them)."""
    today = world.as_of.date()
    for c in world.contacts:
        account = world.accounts[c.account]
        start = month_start(today - timedelta(days=r.randint(120, 2900)))
        jobs = [Job(account.name, account.domain, c.title, start, None)]
        seniority = c.seniority
        for _ in range(r.choice((1, 2, 2, 3))):
            if not companies:
                break
            end = start - timedelta(days=r.randint(0, 75))
            begin = month_start(end - timedelta(days=r.randint(300, 1900)))
            seniority = _lower(seniority, r)
            co = r.choice(companies)
            jobs.append(Job(co.name, co.domain, _title(r, c.function, seniority), begin, end))
            start = begin
        world.contact_jobs[c.index] = jobs


def planted_person(world: World, r: random.Random, namer: Namer, company: Company, function: str,
                   seniority: str, *, title: str | None = None, location: str | None = None) -> PlantedPerson:
    first, last, gender = person_name(r)
    email = namer.email(first, last, company.domain)
    p = PlantedPerson(
        email=email, first=first, last=last, gender=gender, company=company.name, domain=company.domain,
        title=title or _title(r, function, seniority), seniority=seniority, function=function,
        industry=company.industry, employees=company.employees, location=location or company.location,
    )
    world.planted_people.append(p)
    return p


def linkedin(first: str, last: str, n: int) -> str:
    return f"https://www.linkedin.com/in/{slug(first, '-')}-{slug(last, '-')}-{n:05x}"


def contact_people_rows(world: World) -> Iterator[tuple[object, ...]]:
    for c in world.contacts:
        a = world.accounts[c.account]
        yield (c.email, c.name, a.name, a.domain, c.title, c.seniority, c.function, a.industry, a.employees,
               c.location, linkedin(c.first, c.last, c.index * 7919 % 1_000_003) if c.index % 3 else "")


def planted_people_rows(world: World) -> Iterator[tuple[object, ...]]:
    for i, p in enumerate(world.planted_people):
        yield (p.email, p.name, p.company, p.domain, p.title, p.seniority, p.function, p.industry, p.employees,
               p.location, linkedin(p.first, p.last, (i + 17) * 104_729 % 1_000_003))


def _job_row(email: str, j: Job) -> tuple[object, ...]:
    return (email, j.company, j.domain, j.title, j.start.isoformat(), j.end.isoformat() if j.end else "")


def contact_employment_rows(world: World) -> Iterator[tuple[object, ...]]:
    for c in world.contacts:
        for j in world.contact_jobs.get(c.index, []):
            yield _job_row(c.email, j)


def planted_employment_rows(world: World) -> Iterator[tuple[object, ...]]:
    for p in world.planted_people:
        for j in p.jobs:
            yield _job_row(p.email, j)
