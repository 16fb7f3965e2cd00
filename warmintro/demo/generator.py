"""The demo workspace generator: a realistic, fictional import folder with its ground truth planted.

    from warmintro.demo.generator import generate_workspace, SIZES
    truth = generate_workspace(Path("demo"), accounts=300, seed=7)

Writes the contract's files (../shared/design/contract.md) plus ground_truth.json. Deterministic: the
same arguments give byte-identical files (seeded random.Random / numpy generators per component; the
clock is read only for the default as_of, today 09:00 UTC). The big files (usage, people, employment,
relationships) are streamed in chunks, so the "L" size runs in minutes in a few GB.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from warmintro.demo.activity import HEADER as USAGE_HEADER
from warmintro.demo.activity import write_usage
from warmintro.demo.champions import plant_champions
from warmintro.demo.companies import (
    Namer,
    make_accounts,
    make_network_companies,
    make_partners,
    make_team,
    new_world,
    program_toml,
)
from warmintro.demo.events import ask_history, background_events, opportunities
from warmintro.demo.mailgen import write_emails
from warmintro.demo.model import SIZES, Company, GroundTruth, World, day, derive_np, derive_rng, ts
from warmintro.demo.network import team_ties, write_background_ties, write_network
from warmintro.demo.people import (
    EMPLOYMENT_HEADER,
    PEOPLE_HEADER,
    contact_employment_rows,
    contact_people_rows,
    make_contact_jobs,
    make_contacts,
    planted_employment_rows,
    planted_people_rows,
)
from warmintro.demo.programs import employee_referrals, plan_ledger, program_truth
from warmintro.demo.scenarios import plant_scenarios

__all__ = ["SIZES", "GroundTruth", "generate_workspace"]

RELATIONSHIP_HEADER = ("a_email", "b_email", "kind", "weight", "first_at", "last_at")


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _csv_rows(fh: BinaryIO, rows: Iterable[Iterable[object]], header: Iterable[str] | None = None) -> int:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header is not None:
        w.writerow(header)
    n = 0
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
        n += 1
        if n % 20_000 == 0:
            fh.write(buf.getvalue().encode("utf-8"))
            buf.seek(0)
            buf.truncate()
    fh.write(buf.getvalue().encode("utf-8"))
    return n


def _write(path: Path, header: tuple[str, ...], rows: Iterable[Iterable[object]]) -> int:
    with path.open("wb") as fh:
        return _csv_rows(fh, rows, header)


def _as_of(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=0)


def _finalise_ids(world: World) -> None:
    world.signals.sort(key=lambda s: (s.at, s.account_id, s.type, s.contact_email, s.notes))
    for i, s in enumerate(world.signals, start=1):
        s.signal_id = f"SIG-{i:06d}"
    world.meetings.sort(key=lambda m: (m.at, m.account_id or "", m.kind, m.title))
    for i, mt in enumerate(world.meetings, start=1):
        mt.meeting_id = f"MTG-{i:05d}"
    world.opportunities.sort(key=lambda o: (o.created_at, o.domain))
    for i, o in enumerate(world.opportunities, start=1):
        o.opportunity_id = f"OPP-{i:05d}"
    world.asks.sort(key=lambda a: (a.asked_at, a.contact_email))


def _small_files(world: World, out: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    counts["accounts"] = _write(out / "accounts.csv", (
        "account_id", "name", "domain", "industry", "employees", "arr", "nrr", "health_score", "lifecycle_stage",
        "customer_since", "renewal_date", "csm_email", "ae_email"), (
        (a.account_id, a.name, a.domain, a.industry, a.employees, _num(a.arr), _num(a.nrr), _num(a.health), a.stage,
         day(a.customer_since), day(a.renewal_date), a.csm, a.ae) for a in world.accounts))
    counts["contacts"] = _write(out / "contacts.csv", (
        "contact_id", "account_id", "name", "email", "title", "crm_role", "do_not_contact", "slack_user_id"), (
        (c.contact_id, world.accounts[c.account].account_id, c.name, c.email, c.title, c.crm_role,
         "true" if c.dnc else "false", c.slack_user_id) for c in world.contacts))
    counts["signals"] = _write(out / "signals.csv", (
        "signal_id", "account_id", "contact_email", "type", "occurred_at", "score", "sentiment", "notes",
        "resolved_at"), (
        (s.signal_id, s.account_id, s.contact_email, s.type, ts(s.at), _num(s.score), s.sentiment, s.notes,
         ts(s.resolved_at)) for s in world.signals))
    counts["meetings"] = _write(out / "meetings.csv", (
        "meeting_id", "account_id", "title", "kind", "occurred_at", "attendees"), (
        (m.meeting_id, m.account_id, m.title, m.kind, ts(m.at), ";".join(m.attendees)) for m in world.meetings))
    counts["team"] = _write(out / "team.csv", ("email", "name", "role", "slack_user_id"), (
        (m.email, m.name, m.role, m.slack_user_id) for m in world.team))
    counts["opportunities"] = _write(out / "opportunities.csv", (
        "opportunity_id", "account_name", "domain", "stage", "amount", "created_at", "closed_at", "source",
        "referrer_email", "referral_id"), (
        (o.opportunity_id, o.account_name, o.domain, o.stage, _num(o.amount), ts(o.created_at), ts(o.closed_at),
         o.source, o.referrer_email, "") for o in world.opportunities))
    counts["asks"] = _write(out / "asks.csv", ("contact_email", "asked_at", "outcome", "channel", "asked_by"), (
        (a.contact_email, ts(a.asked_at), a.outcome, a.channel, a.asked_by) for a in world.asks))
    counts["partners"] = _write(out / "partners.csv", (
        "partner_id", "name", "domain", "kind", "tier", "certified", "contact_email", "commission_rate"), (
        (p.partner_id, p.name, p.domain, p.kind, p.tier, "true" if p.certified else "false", p.contact_email,
         _num(p.commission_rate)) for p in world.partners))
    (out / "program.toml").write_text(program_toml(world), encoding="utf-8")
    return counts


def _truth(world: World, counts: dict[str, int]) -> GroundTruth:
    truth = GroundTruth(as_of=ts(world.as_of), seed=world.seed, vendor=world.vendor.to_json())
    for m in world.moments:
        c = world.contacts[m.contact]
        a = world.accounts[m.account]
        entry = {"contact_email": c.email, "account_id": a.account_id, "trigger_type": m.trigger.type,
                 "signal_id": m.trigger.signal_id, "scenario": m.scenario}
        if m.reasons:
            truth.skipped.append({**entry, "reason": m.reasons[0], "also": m.reasons[1:]})
        else:
            truth.asks.append({**entry, "persona": c.persona})
    truth.asks.sort(key=lambda x: x["contact_email"])
    truth.skipped.sort(key=lambda x: x["contact_email"])
    truth.personas = {c.email: c.persona for c in world.contacts}
    truth.sentiment = {s.signal_id: s.label for s in world.signals if not s.sentiment}
    truth.targets = world.targets
    truth.who_knows = world.who_knows
    truth.moves = world.moves
    truth.voices = world.voices
    truth.counts = counts
    truth.scenarios = world.scenario_notes
    truth.programs = program_truth(world)
    truth.ledger = world.ledger
    return truth


def generate_workspace(out_dir: Path, *, accounts: int = 300, seed: int = 7, as_of: datetime | None = None,
                       people: int | None = None, usage_rows: int | None = None, ties: int | None = None,
                       emails: int | None = None, contacts: int | None = None) -> GroundTruth:
    """Write a demo import folder to `out_dir` and return (and write) its ground truth.

    accounts: customer accounts (at least 30); contacts: total contacts (default 4-8 per account);
    people: network people besides the contacts (default 25 per account); usage_rows: exact rows of
    usage.csv (default: a year of usage, ~270 rows per contact); ties: exact rows of relationships.csv
    (default 120 per account); emails: exact emails in emails.jsonl (default 10-40 per writer).
    """
    T = _as_of(as_of)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "emails").mkdir(exist_ok=True)
    n_people = accounts * 25 if people is None else max(0, people)
    world = new_world(T, seed)
    namer = Namer(derive_rng(seed, "names"), world)
    make_team(world, derive_rng(seed, "team"), namer, accounts)
    make_partners(world, derive_rng(seed, "partners"), namer)
    make_accounts(world, derive_rng(seed, "accounts"), namer, accounts)
    companies: list[Company] = make_network_companies(world, derive_rng(seed, "companies"), namer,
                                                      max(20, n_people // 6))
    make_contacts(world, derive_rng(seed, "contacts"), namer, contacts)
    make_contact_jobs(world, derive_rng(seed, "jobs"), companies)
    plant_scenarios(world, derive_rng(seed, "scenarios"))
    plant_champions(world, derive_rng(seed, "champions"), namer)
    background_events(world, derive_rng(seed, "signals"))
    ask_history(world, derive_rng(seed, "asks"))
    opportunities(world, derive_rng(seed, "opportunities"), companies)
    employee_referrals(world, derive_rng(seed, "programs"), companies)  # its own stream: nothing else moves
    _finalise_ids(world)
    plan_ledger(world, derive_rng(seed, "ledger"), companies)  # its own stream too
    counts = _small_files(world, out)

    with (out / "usage.csv").open("wb") as fh:
        _csv_rows(fh, [], USAGE_HEADER)
        counts["usage"] = write_usage(world, fh, derive_np(seed, "usage"), usage_rows)

    with (out / "people.csv").open("wb") as pf, (out / "employment.csv").open("wb") as ef:
        n_p = _csv_rows(pf, contact_people_rows(world), PEOPLE_HEADER)
        n_p += _csv_rows(pf, planted_people_rows(world))
        n_e = _csv_rows(ef, contact_employment_rows(world), EMPLOYMENT_HEADER)
        n_e += _csv_rows(ef, planted_employment_rows(world))
        pf.flush()
        ef.flush()
        net = write_network(world, companies, n_people, pf, ef, derive_np(seed, "network"))
        counts["people"] = n_p + net.size

    extra_ties = team_ties(world, net, derive_rng(seed, "team-ties"))
    fixed = [*world.planted_ties, *extra_ties]
    n_ties = accounts * 120 if ties is None else ties
    with (out / "relationships.csv").open("wb") as fh:
        n = _csv_rows(fh, ((t.a, t.b, t.kind, _num(t.weight), day(t.first_at), day(t.last_at)) for t in fixed),
                      RELATIONSHIP_HEADER)
        pool = [c.email for c in world.contacts if not c.champion]
        n += write_background_ties(world, fh, net, pool, max(0, n_ties - n), derive_np(seed, "ties"))
        counts["relationships"] = n

    with (out / "emails" / "emails.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        counts["emails"] = write_emails(world, fh, derive_rng(seed, "emails"), net, companies, emails)

    truth = _truth(world, counts)
    (out / "ground_truth.json").write_text(json.dumps(truth.to_json(), indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return truth
