"""Write a contract folder out in a CRM's own export layout (for tests, demos and documentation).

`export_crm(contract_dir, out_dir, "hubspot")` writes companies.csv, contacts.csv and deals.csv the way
HubSpot's UI export does (property labels, UTF-8 with BOM, CRLF, every field quoted, `YYYY-MM-DD HH:MM`
dates); "salesforce" writes Account.csv, Contact.csv, Opportunity.csv and User.csv as Data Loader does
(API names, ISO datetimes with milliseconds). Columns HubSpot and Salesforce have no standard field for
become custom properties, mapped in the copied program.toml's `[presets.NAME.columns]`. Every other file
of the folder is copied unchanged. Importing the result with `--preset` gives the same store.
With `product_ids=True` the companies get CRM record ids of their own (HubSpot numbers, Salesforce 18-character
ids) that link contacts and deals, and the contract's account id goes into a custom property ("Product Account
ID", `Product_Account_Id__c`) mapped to account_id, as a CRM that is not the product's system of record has it.
"""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

HUBSPOT_STAGE_LABELS = {"prospecting": "Appointment Scheduled", "discovery": "Qualified To Buy",
                        "evaluation": "Presentation Scheduled", "negotiation": "Contract Sent",
                        "won": "Closed Won", "lost": "Closed Lost"}
SALESFORCE_STAGE_LABELS = {"prospecting": "Prospecting", "discovery": "Qualification",
                           "evaluation": "Value Proposition", "negotiation": "Negotiation/Review",
                           "won": "Closed Won", "lost": "Closed Lost"}
ROLE_LABELS = {"economic_buyer": "Decision Maker", "product_user": "End User", "power_user": "Power User",
               "administrator": "Administrator", "other": "Other"}
REPLACED = ("accounts.csv", "contacts.csv", "opportunities.csv")

HUBSPOT_COLUMNS = {"ARR": "arr", "Net Revenue Retention": "nrr", "Health Score": "health_score",
                   "CS Stage": "lifecycle_stage", "Renewal Date": "renewal_date", "Customer Success Manager": "csm_email",
                   "Slack User ID": "slack_user_id", "Referrer Email": "referrer_email", "Referral ID": "referral_id"}
SALESFORCE_COLUMNS = {"ARR__c": "arr", "NRR__c": "nrr", "Health_Score__c": "health_score",
                      "CS_Stage__c": "lifecycle_stage", "Customer_Since__c": "customer_since",
                      "Renewal_Date__c": "renewal_date", "CSM__c": "csm_email", "Buying_Role__c": "crm_role",
                      "Slack_User_Id__c": "slack_user_id", "Referrer_Email__c": "referrer_email",
                      "Referral_Id__c": "referral_id"}


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "") for k, v in row.items()} for row in csv.DictReader(fh)]


def _dt(value: str) -> datetime | None:
    if not value:
        return None
    v = value.replace("Z", "+00:00")
    d = datetime.fromisoformat(v)
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(UTC)


def _hubspot_time(value: str) -> str:
    d = _dt(value)
    if d is None:
        return ""
    return d.strftime("%Y-%m-%d %H:%M:%S" if d.second else "%Y-%m-%d %H:%M")


def _sf_datetime(value: str) -> str:
    d = _dt(value)
    return d.strftime("%Y-%m-%dT%H:%M:%S.000+0000") if d else ""


def _write(path: Path, header: list[str], rows: list[list[str]], *, hubspot: bool) -> None:
    if hubspot:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            w.writerow(header)
            w.writerows(rows)
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)


def _split(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last


PRODUCT_ID_COLUMN = {"hubspot": "Product Account ID", "salesforce": "Product_Account_Id__c"}


def export_crm(contract_dir: Path, out_dir: Path, preset: str, *, product_ids: bool = False) -> Path:
    src, out = Path(contract_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name in REPLACED or entry.name == "program.toml":
            continue
        if entry.is_dir():
            shutil.copytree(entry, out / entry.name, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, out / entry.name)
    accounts = _read(src / "accounts.csv")
    contacts = _read(src / "contacts.csv")
    opportunities = _read(src / "opportunities.csv")
    team = {r["email"].lower(): r["name"] for r in _read(src / "team.csv")}
    prospects: dict[str, str] = {}
    known = {a["domain"].lower() for a in accounts}
    for o in opportunities:
        if o["domain"].lower() not in known:
            prospects.setdefault(o["domain"].lower(), o["account_name"])
    by_domain = {a["domain"].lower(): a["account_id"] for a in accounts}
    for k, domain in enumerate(sorted(prospects), start=1):
        by_domain[domain] = f"PROSPECT-{k:05d}"
    columns = dict(HUBSPOT_COLUMNS if preset == "hubspot" else SALESFORCE_COLUMNS)
    record: dict[str, str] = {}  # account id -> the CRM's own record id, when they differ
    if product_ids:
        for k, domain in enumerate(sorted(by_domain), start=1):
            record[by_domain[domain]] = str(9_100_000_000 + k) if preset == "hubspot" else f"001QP{k:010d}AAA"
        columns = {PRODUCT_ID_COLUMN[preset]: "account_id", **columns}
    if preset == "hubspot":
        _hubspot(out, accounts, contacts, opportunities, team, prospects, by_domain, record)
    elif preset == "salesforce":
        _salesforce(out, accounts, contacts, opportunities, team, prospects, by_domain, record)
    else:
        raise ValueError(preset)
    program = (src / "program.toml").read_text(encoding="utf-8-sig") if (src / "program.toml").is_file() else ""
    mapping = "\n".join(f'"{k}" = "{v}"' for k, v in columns.items())
    (out / "program.toml").write_text(f"{program.rstrip()}\n\n[presets.{preset}.columns]\n{mapping}\n", encoding="utf-8")
    return out


def _hubspot(out: Path, accounts: list[dict[str, str]], contacts: list[dict[str, str]],
             opportunities: list[dict[str, str]], team: dict[str, str], prospects: dict[str, str],
             by_domain: dict[str, str], record: dict[str, str]) -> None:
    def rid(account_id: str) -> str:
        return record.get(account_id, account_id)

    product = [PRODUCT_ID_COLUMN["hubspot"]] if record else []
    header = ["Record ID", "Company name", "Company Domain Name", "Industry", "Number of Employees", "Annual Revenue",
              "Lifecycle Stage", "Company owner", "Create Date", "Became a Customer Date", "ARR",
              "Net Revenue Retention", "Health Score", "CS Stage", "Renewal Date", "Customer Success Manager", *product]
    rows = []
    for a in accounts:
        rows.append([rid(a["account_id"]), a["name"], a["domain"], a["industry"], a["employees"], "48000000", "Customer",
                     team.get(a["ae_email"].lower(), a["ae_email"]), _hubspot_time(a["customer_since"]) or "2020-01-01 09:00",
                     _hubspot_time(a["customer_since"]), a["arr"], a["nrr"], a["health_score"], a["lifecycle_stage"],
                     _hubspot_time(a["renewal_date"]), team.get(a["csm_email"].lower(), a["csm_email"]),
                     *([a["account_id"]] if record else [])])
    for domain, name in sorted(prospects.items()):
        rows.append([rid(by_domain[domain]), name, domain, "", "", "25000000", "Opportunity", "", "2024-01-15 10:30",
                     "", "", "", "", "", "", "", *([""] if record else [])])
    _write(out / "companies.csv", header, rows, hubspot=True)
    header = ["Record ID", "First Name", "Last Name", "Email", "Job Title", "Associated Company IDs (Primary)",
              "Lifecycle Stage", "Unsubscribed from all email", "Buying Role", "Phone Number", "Slack User ID"]
    rows = []
    for c in contacts:
        first, last = _split(c["name"])
        rows.append([c["contact_id"], first, last, c["email"], c["title"], rid(c["account_id"]), "Customer",
                     "true" if c["do_not_contact"].lower() == "true" else "false", ROLE_LABELS.get(c["crm_role"], ""),
                     "", c["slack_user_id"]])
    _write(out / "contacts.csv", header, rows, hubspot=True)
    header = ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Create Date", "Close Date",
              "Associated Company IDs (Primary)", "Original Source Type", "Referrer Email", "Referral ID"]
    rows = []
    for o in opportunities:
        closed = _hubspot_time(o["closed_at"]) or "2027-03-31 17:00"  # open deals carry an expected close date
        rows.append([o["opportunity_id"], f"{o['account_name']} - New Business", HUBSPOT_STAGE_LABELS[o["stage"]],
                     "Sales Pipeline", o["amount"], _hubspot_time(o["created_at"]), closed,
                     rid(by_domain[o["domain"].lower()]), o["source"], o["referrer_email"], o["referral_id"]])
    _write(out / "deals.csv", header, rows, hubspot=True)


def _salesforce(out: Path, accounts: list[dict[str, str]], contacts: list[dict[str, str]],
                opportunities: list[dict[str, str]], team: dict[str, str], prospects: dict[str, str],
                by_domain: dict[str, str], record: dict[str, str]) -> None:
    def rid(account_id: str) -> str:
        return record.get(account_id, account_id)

    users = {email: f"005{k:015d}" for k, email in enumerate(sorted(team), start=1)}
    _write(out / "User.csv", ["Id", "Username", "Email", "Name", "IsActive"],
           [[uid, email, email, team[email], "true"] for email, uid in users.items()], hubspot=False)

    def user(email: str) -> str:
        return users.get(email.lower(), email)

    header = ["Id", "Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue", "Type", "OwnerId",
              "ARR__c", "NRR__c", "Health_Score__c", "CS_Stage__c", "Customer_Since__c", "Renewal_Date__c", "CSM__c",
              *([PRODUCT_ID_COLUMN["salesforce"]] if record else [])]
    rows = [[rid(a["account_id"]), a["name"], f"https://www.{a['domain']}", a["industry"], a["employees"], "",
             "Customer - Direct", user(a["ae_email"]), a["arr"], a["nrr"], a["health_score"], a["lifecycle_stage"],
             a["customer_since"], a["renewal_date"], user(a["csm_email"]), *([a["account_id"]] if record else [])]
            for a in accounts]
    rows += [[rid(by_domain[d]), name, f"http://{d}/", "", "", "40000000", "Prospect", "", "", "", "", "", "", "", "",
              *([""] if record else [])] for d, name in sorted(prospects.items())]
    _write(out / "Account.csv", header, rows, hubspot=False)
    header = ["Id", "AccountId", "FirstName", "LastName", "Email", "Title", "HasOptedOutOfEmail", "Buying_Role__c",
              "Slack_User_Id__c"]
    rows = []
    for c in contacts:
        first, last = _split(c["name"])
        rows.append([c["contact_id"], rid(c["account_id"]), first, last, c["email"], c["title"],
                     "true" if c["do_not_contact"].lower() == "true" else "false", ROLE_LABELS.get(c["crm_role"], ""),
                     c["slack_user_id"]])
    _write(out / "Contact.csv", header, rows, hubspot=False)
    header = ["Id", "AccountId", "Name", "StageName", "Amount", "CreatedDate", "CloseDate", "LeadSource", "IsWon",
              "IsClosed", "Referrer_Email__c", "Referral_Id__c"]
    rows = []
    for o in opportunities:
        won, closed = o["stage"] == "won", o["stage"] in ("won", "lost")
        rows.append([o["opportunity_id"], rid(by_domain[o["domain"].lower()]), f"{o['account_name']} - New Business",
                     SALESFORCE_STAGE_LABELS[o["stage"]], o["amount"], _sf_datetime(o["created_at"]),
                     o["closed_at"][:10] if closed else "2027-03-31", o["source"],
                     "true" if won else "false", "true" if closed else "false", o["referrer_email"], o["referral_id"]])
    _write(out / "Opportunity.csv", header, rows, hubspot=False)
