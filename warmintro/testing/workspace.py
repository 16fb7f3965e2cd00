"""Build small contract folders in tests, file by file, and import them through the real importer; and the
fresh SQLite store with a folder imported that the eval workspace builds (evals/workspace.py: the demo folder,
clean and with its planted copy). The benchmarks' sized, cached workspace (benchmarks/workspace.py) opens its
store apart from the import, because the import alone is the figure it measures."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from warmintro.importer.run import import_folder
from warmintro.importer.schema import FILES
from warmintro.store.db import Store

T = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

PROGRAM = """[vendor]
name = "Relaydesk"
domain = "vendor.example"
one_liner = "routing software for logistics teams"

[icp]
industries = ["Logistics"]
"""


def iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return "" if value is None else str(value)


@dataclass
class Workspace:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    program: str = PROGRAM

    def add(self, file: str, **row: Any) -> Workspace:
        self.rows.setdefault(file, []).append(row)
        return self

    def account(self, account_id: str, **kw: Any) -> Workspace:
        row = {"account_id": account_id, "name": f"Account {account_id}", "domain": f"{account_id.lower()}.example",
               "nrr": 110, "health_score": 80, "lifecycle_stage": "active", "csm_email": "csm@vendor.example"}
        row.update(kw)
        return self.add("accounts.csv", **row)

    def contact(self, email: str, account_id: str, **kw: Any) -> Workspace:
        row = {"contact_id": email, "account_id": account_id, "name": email.split("@")[0].title(), "email": email,
               "do_not_contact": "false"}
        row.update(kw)
        return self.add("contacts.csv", **row)

    def signal(self, signal_id: str, account_id: str, type: str, occurred_at: datetime, **kw: Any) -> Workspace:
        row = {"signal_id": signal_id, "account_id": account_id, "type": type, "occurred_at": occurred_at}
        row.update(kw)
        return self.add("signals.csv", **row)

    def daily_usage(self, account_id: str, email: str, *, days: int = 90, end: datetime = T,
                    events: tuple[str, ...] = ("login", "feature_used", "workflow_completed"),
                    skip: range | None = None) -> Workspace:
        """One of each event per day for `days` days up to `end`, except days-before-end in `skip`."""
        for d in range(days):
            if skip is not None and d in skip:
                continue
            when = end - timedelta(days=d, hours=1)
            for e in events:
                self.add("usage.csv", account_id=account_id, contact_email=email, event=e, occurred_at=when, count=2)
        return self

    def ask(self, email: str, asked_at: datetime, outcome: str = "accepted") -> Workspace:
        return self.add("asks.csv", contact_email=email, asked_at=asked_at, outcome=outcome)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "program.toml").write_text(self.program, encoding="utf-8")
        for name in ("accounts.csv", "contacts.csv"):
            self.rows.setdefault(name, [])
        for name, rows in self.rows.items():
            cols = list(FILES[name].column_names)
            with (folder / name).open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(cols)
                for r in rows:
                    unknown = set(r) - set(cols)
                    assert not unknown, f"{name}: unknown columns {unknown}"
                    w.writerow([iso(r.get(c)) for c in cols])
        return folder

    def load(self, store: Store, folder: Path) -> None:
        import_folder(store, self.write(folder))


def imported_sqlite_store(db: Path, folder: Path) -> Store:
    """A fresh SQLite store at `db` with the contract `folder` imported through the real importer."""
    store = Store.open(f"sqlite:///{db}")
    import_folder(store, folder)
    return store
