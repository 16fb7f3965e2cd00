"""HubSpot and Salesforce exports -> accounts.csv, contacts.csv and opportunities.csv (docs/crm-presets.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from warmintro.importer.presets.base import (
    AddIssue,
    CrmTable,
    Directory,
    Segment,
    Translation,
    config_columns,
    config_values,
    map_values,
    read_table,
    read_team,
    report_rows,
    require,
    resolve_people,
    warn_unmapped,
)
from warmintro.importer.schema import FILES, OPPORTUNITY_STAGES
from warmintro.importer.validate import ROW, ImportIssue

Fields = dict[str, tuple[str, ...]]

# Buying roles (HubSpot), opportunity contact roles (Salesforce) and the contract's own names -> crm_role.
ROLE_LABELS: dict[str, str] = {
    "budget holder": "economic_buyer", "decision maker": "economic_buyer", "executive sponsor": "economic_buyer",
    "economic buyer": "economic_buyer", "economic decision maker": "economic_buyer",
    "end user": "product_user", "business user": "product_user", "user": "product_user",
    "power user": "power_user", "administrator": "administrator", "admin": "administrator",
    "champion": "other", "influencer": "other", "blocker": "other", "legal and compliance": "other",
    "legal & compliance": "other", "evaluator": "other", "technical buyer": "other", "other": "other",
    "economic_buyer": "economic_buyer", "product_user": "product_user", "power_user": "power_user",
    "product user": "product_user",
}
ROLE_PRIORITY = ("economic_buyer", "administrator", "power_user", "product_user", "other")

HUBSPOT_STAGES: dict[str, str] = {
    "appointment scheduled": "prospecting", "appointmentscheduled": "prospecting",
    "qualified to buy": "discovery", "qualifiedtobuy": "discovery",
    "presentation scheduled": "evaluation", "presentationscheduled": "evaluation",
    "decision maker bought-in": "evaluation", "decisionmakerboughtin": "evaluation",
    "contract sent": "negotiation", "contractsent": "negotiation",
    "closed won": "won", "closedwon": "won", "closed lost": "lost", "closedlost": "lost",
}
SALESFORCE_STAGES: dict[str, str] = {
    "prospecting": "prospecting", "qualification": "discovery", "needs analysis": "discovery",
    "value proposition": "evaluation", "id. decision makers": "evaluation", "perception analysis": "evaluation",
    "proposal/price quote": "negotiation", "negotiation/review": "negotiation",
    "closed won": "won", "closed lost": "lost",
}
NEVER_ARR = ("annual revenue", "annualrevenue")
NEVER_NOTE = "the company's own revenue, never its spend with you: map your ARR field in [presets.NAME.columns]"


@dataclass(frozen=True)
class Source:
    file: str
    feeds: str
    fields: Fields
    required: tuple[tuple[str, ...], ...]
    known: tuple[str, ...] = ()  # headers the translation uses itself, or leaves out on purpose


@dataclass(frozen=True)
class Preset:
    name: str
    accounts: Source
    contacts: Source
    deals: Source
    company_link: tuple[str, ...]  # contacts/deals -> their company (ids; a name column is looked up)
    stages: dict[str, str]
    users: str | None = None  # a user list for owner ids (Salesforce User.csv)
    customer: str = "lifecycle"  # how a company is a customer: HubSpot lifecycle stage, Salesforce Type
    name_parts: tuple[str, str] = ("first name", "last name")
    extra: dict[str, Any] = field(default_factory=dict)


_HS_LINK = ("associated company ids (primary)", "associated company id (primary)", "associated company id",
            "associated company ids", "associated company")
HUBSPOT = Preset(
    "hubspot",
    Source("companies.csv", "accounts.csv", {
        "account_id": ("record id", "company id"), "name": ("company name", "name"),
        "domain": ("company domain name", "website url", "website"), "industry": ("industry",),
        "employees": ("number of employees",), "customer_since": ("became a customer date",),
        "ae_email": ("company owner",),
    }, (("record id", "company id"), ("company name", "name"), ("company domain name", "website url", "website"),
        ("lifecycle stage",)), ("lifecycle stage", "create date")),
    Source("contacts.csv", "contacts.csv", {
        "contact_id": ("record id", "contact id"), "email": ("email",), "title": ("job title",),
        "do_not_contact": ("unsubscribed from all email",), "crm_role": ("buying role",),
    }, (("record id", "contact id"), ("email",), _HS_LINK), ("first name", "last name", "lifecycle stage",
                                                           "create date", *_HS_LINK)),
    Source("deals.csv", "opportunities.csv", {
        "opportunity_id": ("record id", "deal id"), "stage": ("deal stage",), "amount": ("amount",),
        "created_at": ("create date",), "closed_at": ("close date",),
        "source": ("original source type", "original source"),
    }, (("record id", "deal id"), ("deal stage",), ("create date",), _HS_LINK), ("deal name", "pipeline", *_HS_LINK)),
    _HS_LINK, HUBSPOT_STAGES,
)
SALESFORCE = Preset(
    "salesforce",
    Source("Account.csv", "accounts.csv", {
        "account_id": ("id",), "name": ("name",), "domain": ("website",), "industry": ("industry",),
        "employees": ("numberofemployees",), "ae_email": ("ownerid",),
    }, (("id",), ("name",), ("website",), ("type",)), ("type",)),
    Source("Contact.csv", "contacts.csv", {
        "contact_id": ("id",), "email": ("email",), "title": ("title",), "do_not_contact": ("hasoptedoutofemail",),
    }, (("id",), ("accountid",), ("email",)), ("firstname", "lastname", "name", "accountid")),
    Source("Opportunity.csv", "opportunities.csv", {
        "opportunity_id": ("id",), "stage": ("stagename",), "amount": ("amount",), "created_at": ("createddate",),
        "closed_at": ("closedate",), "source": ("leadsource",),
    }, (("id",), ("accountid",), ("stagename",), ("createddate",)), ("accountid", "name", "iswon", "isclosed")),
    ("accountid",), SALESFORCE_STAGES, users="User.csv", customer="type", name_parts=("firstname", "lastname"),
)
PRESETS = {"hubspot": HUBSPOT, "salesforce": SALESFORCE}
PERSON_COLUMNS = ("csm_email", "ae_email")


def _find(t: Translation, file: str) -> str | None:
    return next((n for n in t.entries if n.lower() == file.lower() and t.entries[n].is_file()), None)


def _fields(src: Source, table: CrmTable, custom: dict[str, str], used_custom: set[str]) -> Fields:
    fields = dict(src.fields)
    columns = FILES[src.feeds].column_names
    for header, target in custom.items():
        if table.has(header) and target in columns:
            fields[target] = (header,)
            used_custom.add(header)
    return fields


def _frame(table: CrmTable, fields: Fields, feeds: str) -> tuple[pl.DataFrame, dict[str, str]]:
    cols = [table.pick(fields.get(c, ())).alias(c) for c in FILES[feeds].column_names]
    labels = {c: lab for c in FILES[feeds].column_names if (lab := table.label(fields.get(c, ()))) is not None}
    return table.frame.select(pl.col(ROW), *cols), labels


def _first_id(expr: pl.Expr) -> pl.Expr:
    return expr.str.split(";").list.first().str.strip_chars()


def _roles(frame: pl.DataFrame, warnings: list[str], file: str) -> pl.DataFrame:
    """A multi-select role ("Decision Maker;End User") -> the one crm_role the contract has room for."""
    if frame.height == 0 or frame["crm_role"].null_count() == frame.height:
        return frame
    unknown: set[str] = set()
    out: list[str | None] = []
    for value in frame["crm_role"].to_list():
        if value is None:
            out.append(None)
            continue
        roles = set()
        for part in value.split(";"):
            key = " ".join(part.split()).lower()
            if not key:
                continue
            role = ROLE_LABELS.get(key)
            if role is None:
                unknown.add(part.strip())
                role = "other"
            roles.add(role)
        out.append(next((r for r in ROLE_PRIORITY if r in roles), None))
    if unknown:
        warnings.append(f"{file}: role value(s) read as 'other': {', '.join(sorted(unknown)[:20])}")
    return frame.with_columns(pl.Series("crm_role", out, dtype=pl.String))


def translate_crm(t: Translation, preset_name: str, program: dict[str, Any] | None,
                  store_people: list[tuple[str, str]], add: AddIssue, warnings: list[str]) -> None:
    preset = PRESETS[preset_name]
    custom = config_columns(preset.name, program, add)
    stages = {**preset.stages, **{s: s for s in OPPORTUNITY_STAGES},
              **config_values(preset.name, program, "stages", add)}
    for header, target in custom.items():
        if header in NEVER_ARR and target == "arr":
            add(ImportIssue("program.toml", None, f"presets.{preset.name}.columns", f"'{header}' is {NEVER_NOTE}"))
        fed = {c for s in (preset.accounts, preset.contacts, preset.deals) for c in FILES[s.feeds].column_names}
        if target not in fed:
            add(ImportIssue("program.toml", None, f"presets.{preset.name}.columns",
                            f"'{target}' is not a column of accounts.csv, contacts.csv or opportunities.csv"))
    for contract in ("accounts.csv", "contacts.csv", "opportunities.csv"):
        if contract in t.entries and _find(t, contract) and contract.lower() not in (
                preset.accounts.file.lower(), preset.contacts.file.lower(), preset.deals.file.lower()):
            warnings.append(f"{contract}: ignored, --preset {preset.name} reads the CRM's files instead")
            t.consumed.add(contract)
            t.entries.pop(contract, None)
        t.replaced.add(contract)
    directory = Directory()
    for email, name in store_people:
        directory.add(email, name)
    read_team(t.entries.get("team.csv"), directory)
    used_custom: set[str] = set()

    tables: dict[str, CrmTable] = {}
    for src in (preset.accounts, preset.contacts, preset.deals):
        found = _find(t, src.file)
        if found is None:
            if src is not preset.deals:
                add(ImportIssue(src.file, None, None, f"required file is missing from the folder (--preset {preset.name})"))
            continue
        t.consumed.add(found)
        table = read_table(t.entries.pop(found), add)
        if table is not None and require(table, src.required, add):
            tables[src.file] = table
    if preset.users:
        found = _find(t, preset.users)
        if found is not None:
            t.consumed.add(found)
            users = read_table(t.entries.pop(found), add)
            if users is not None and require(users, (("id",), ("email",)), add):
                for uid, email, name in users.frame.select(
                        pl.col("id"), pl.col("email"), users.pick(("name",))).iter_rows():
                    directory.add(email, name, uid)
                warn_unmapped(users, {"id", "email", "name"}, warnings)
    if preset.accounts.file not in tables:
        return

    # Companies / accounts. The CRM's record id links contacts and deals to their company; the account id is
    # the record id, unless a custom property holding the product's own account id is mapped to account_id.
    companies = tables[preset.accounts.file]
    src = preset.accounts
    fields = _fields(src, companies, custom, used_custom)
    product_ids = fields["account_id"] != src.fields["account_id"]
    frame, labels = _frame(companies, fields, src.feeds)
    if preset.customer == "type":
        is_customer = pl.col("type").str.to_lowercase().str.starts_with("customer").fill_null(False)
    else:
        is_customer = pl.col("lifecycle stage").str.to_lowercase().is_in(["customer", "evangelist"]).fill_null(False)
    flags = companies.frame.select(ROW, is_customer.alias("__customer"), companies.pick(src.fields["account_id"]).alias("__record"))
    frame = frame.join(flags, on=ROW, how="left")
    if product_ids:
        unnumbered = frame.filter(pl.col("__customer") & pl.col("account_id").is_null()).height
        if unnumbered:
            warnings.append(f"{companies.name}: {unnumbered} customer compan{'y has' if unnumbered == 1 else 'ies have'} "
                            f"no '{labels['account_id']}': kept as companies, not accounts (their deals are "
                            "opportunities, their contacts are skipped)")
        frame = frame.with_columns((pl.col("__customer") & pl.col("account_id").is_not_null()).alias("__customer"))
    for col in PERSON_COLUMNS:
        frame = resolve_people(companies, frame, col, labels.get(col), directory, add)
    accounts = frame.filter(pl.col("__customer"))
    ids = frame.select("__record", "account_id", "name", "domain", "__customer").drop_nulls("__record")
    by_name = {n.lower(): i for i, n in zip(ids["__record"], ids["name"], strict=True) if n}
    account_of = dict(ids.filter(pl.col("__customer")).select("__record", "account_id").iter_rows())
    prospect_ids = set(ids["__record"].to_list()) - account_of.keys()
    t.write("accounts.csv", accounts, [Segment(0, companies.name, companies.path, accounts[ROW].to_list(), labels)])
    _warn(companies, src, {**fields, "__record": src.fields["account_id"]}, used_custom, warnings)

    def company_of(table: CrmTable, frame: pl.DataFrame) -> tuple[pl.DataFrame, str | None]:
        link = table.first(preset.company_link)
        if link is None:
            return frame.with_columns(pl.lit(None, dtype=pl.String).alias("__company")), None
        value = table.frame.select(ROW, _first_id(pl.col(link)).alias("__company"))
        if link == "associated company":  # names, not ids
            value = value.with_columns(pl.col("__company").str.to_lowercase().replace_strict(
                list(by_name), list(by_name.values()), default=pl.col("__company")))
        return frame.join(value, on=ROW, how="left"), table.labels[link]

    # Contacts: people at customer companies.
    if preset.contacts.file in tables:
        table = tables[preset.contacts.file]
        src = preset.contacts
        fields = _fields(src, table, custom, used_custom)
        frame, labels = _frame(table, fields, src.feeds)
        frame, link_label = company_of(table, frame)
        if "name" not in fields:
            first, last = preset.name_parts
            full = pl.concat_str([table.pick((first,)).fill_null(""), table.pick((last,)).fill_null("")],
                                 separator=" ").str.strip_chars()
            if table.has("name"):
                full = pl.coalesce([pl.when(full != "").then(full), pl.col("name")])
            names = table.frame.select(ROW, pl.when(full != "").then(full).alias("__name"))
            frame = frame.join(names, on=ROW, how="left").with_columns(pl.col("__name").alias("name")).drop("__name")
            labels["name"] = table.label((first, "name")) or "name"
        # A company record id -> its account id (an unknown record id stays as it is: the importer reports it).
        frame = frame.with_columns(pl.col("__company").replace(list(account_of), list(account_of.values()))
                                   .alias("account_id") if account_of else pl.col("__company").alias("account_id"))
        if link_label:
            labels["account_id"] = link_label
        if product_ids:  # record ids are not stored: one that is not in the export cannot be resolved later
            unknown = frame.filter(pl.col("__company").is_not_null() & ~pl.col("__company").is_in(ids["__record"].to_list()))
            if unknown.height:
                report_rows(table, unknown[ROW].to_list()[:50], link_label,
                            [f"unknown company {c} (not in {preset.accounts.file})" for c in unknown["__company"].to_list()[:50]],
                            add)
                frame = frame.filter(~pl.col(ROW).is_in(unknown[ROW].to_list()))
        # At a company whose line could not be read: that line's problem is reported, not an unknown company.
        frame = frame.filter(~pl.col("__company").is_in(list(companies.unreadable)).fill_null(False))
        skip_none = frame.filter(pl.col("__company").is_null()).height
        skip_email = frame.filter(pl.col("__company").is_not_null() & pl.col("email").is_null()).height
        skip_prospect = frame.filter(pl.col("__company").is_in(list(prospect_ids))).height
        contacts = frame.filter(pl.col("__company").is_not_null() & pl.col("email").is_not_null()
                                & ~pl.col("__company").is_in(list(prospect_ids)))
        contacts = _roles(contacts, warnings, table.name)
        for n, why in ((skip_none, "no associated company"), (skip_email, "no email address"),
                       (skip_prospect, "at a company that is not a customer")):
            if n:
                warnings.append(f"{table.name}: {n} contact(s) skipped: {why}")
        t.write("contacts.csv", contacts, [Segment(0, table.name, table.path, contacts[ROW].to_list(), labels)])
        _warn(table, src, fields, used_custom, warnings)

    # Deals / opportunities: every deal, named by its company.
    if preset.deals.file in tables:
        table = tables[preset.deals.file]
        src = preset.deals
        fields = _fields(src, table, custom, used_custom)
        frame, labels = _frame(table, fields, src.feeds)
        frame, link_label = company_of(table, frame)
        if link_label:
            labels["account_name"] = labels["domain"] = link_label
        frame = frame.drop("account_name", "domain").join(
            ids.select(pl.col("__record").alias("__company"), pl.col("name").alias("account_name"), "domain"),
            on="__company", how="left")
        lost = pl.col("__company").is_in(list(companies.unreadable)).fill_null(False)  # its line's problem is reported
        unknown = frame.filter(pl.col("__company").is_not_null() & pl.col("account_name").is_null()
                               & ~pl.col("__company").is_in(ids["__record"].to_list()) & ~lost)
        if unknown.height:
            report_rows(table, unknown[ROW].to_list()[:50], link_label,
                        [f"unknown company {c} (not in {preset.accounts.file})" for c in unknown["__company"].to_list()[:50]],
                        add)
        orphans = frame.filter(pl.col("__company").is_null()).height
        if orphans:
            warnings.append(f"{table.name}: {orphans} deal(s) skipped: no associated company")
        frame = frame.filter(pl.col("__company").is_not_null()).sort(ROW)
        frame = _stages(preset, table, frame, stages, labels.get("stage"), add)
        frame = frame.with_columns(pl.when(pl.col("stage").is_in(["won", "lost"])).then(pl.col("closed_at"))
                                   .otherwise(None).alias("closed_at"))
        # A deal at an unknown company is reported above, once: not again for the name and domain it lacks.
        frame = frame.filter(~pl.col(ROW).is_in(unknown[ROW].to_list()) & ~lost)
        t.write("opportunities.csv", frame, [Segment(0, table.name, table.path, frame[ROW].to_list(), labels)])
        _warn(table, src, fields, used_custom, warnings)
    for header in custom:
        if header not in used_custom:
            warnings.append(f"program.toml: [presets.{preset.name}.columns] '{header}' matches no column of "
                            f"{preset.accounts.file}, {preset.contacts.file} or {preset.deals.file}")


def _stages(preset: Preset, table: CrmTable, frame: pl.DataFrame, stages: dict[str, str], label: str | None,
            add: AddIssue) -> pl.DataFrame:
    hint = f"map it in program.toml [presets.{preset.name}.stages]"
    if preset.name == "salesforce":
        truth = ("true", "1", "yes")
        flags = table.frame.select(ROW, table.pick(("iswon",)).str.to_lowercase().is_in(truth).fill_null(False).alias("__won"),
                                   table.pick(("isclosed",)).str.to_lowercase().is_in(truth).fill_null(False).alias("__closed"))
        frame = frame.join(flags, on=ROW, how="left").sort(ROW)
        decided = pl.when(pl.col("__won")).then(pl.lit("won")).when(pl.col("__closed")).then(pl.lit("lost"))
        open_rows = frame.filter(~pl.col("__won") & ~pl.col("__closed"))
        open_rows = map_values(table, open_rows, "stage", stages, label, add, "stage", hint)
        mapped = dict(zip(open_rows[ROW].to_list(), open_rows["stage"].to_list(), strict=True))
        by_name = frame[ROW].replace_strict(list(mapped), list(mapped.values()), default=None, return_dtype=pl.String) \
            if mapped else pl.Series([None] * frame.height, dtype=pl.String)
        return frame.with_columns(decided.otherwise(by_name).alias("stage")).drop("__won", "__closed")
    return map_values(table, frame, "stage", stages, label, add, "deal stage", hint)


def _warn(table: CrmTable, src: Source, fields: Fields, used_custom: set[str], warnings: list[str]) -> None:
    used = {h for headers in fields.values() for h in headers} | set(src.known) | used_custom
    notes = {h: NEVER_NOTE.replace("NAME", "hubspot" if src.file == "companies.csv" else "salesforce")
             for h in NEVER_ARR}
    warn_unmapped(table, used, warnings, notes)

