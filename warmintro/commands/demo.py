"""`warmintro demo`: build a realistic demo workspace offline, import it, print today's queue."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from warmintro.commands.common import Steps, emit_json, err, out, parse_when, progress_wanted, use_context
from warmintro.errors import WarmintroError


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        ctx: typer.Context,
        accounts: Annotated[int, typer.Option("--accounts", min=10, max=20_000, help="How many customer accounts.")] = 300,
        seed: Annotated[int, typer.Option("--seed", help="Same seed, same workspace.")] = 7,
        as_of: Annotated[str | None, typer.Option("--as-of", help="The demo's 'today' (default: today 09:00 UTC).")] = None,
        export: Annotated[Path | None, typer.Option("--export", help="Only write the contract folder here.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Load into a store that holds non-demo data.")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Build a realistic demo company (accounts, usage, signals, network, emails) and show today's queue."""
        from warmintro.demo.generator import generate_workspace

        when = parse_when(as_of) if as_of else datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
        if export is not None:
            export.mkdir(parents=True, exist_ok=True)
            truth = generate_workspace(export, accounts=accounts, seed=seed, as_of=when)
            summary = {"exported": str(export), "as_of": when, "planted_asks": len(truth.asks)}
            if as_json:
                emit_json(summary)
            else:
                out.print(f"Wrote the demo workspace to {export} (planted truth in ground_truth.json). "
                          f"Import it with: warmintro import {export}")
            return

        from sqlalchemy import func, select

        from warmintro.commands.signals import print_queue
        from warmintro.demo.ledger import plan_referrals, prepare_store, record_referrals, settle_notices
        from warmintro.engines.scan import scan
        from warmintro.importer.run import import_folder
        from warmintro.program import load_program
        from warmintro.store import models as m

        c = use_context(ctx)
        with c.store.session() as s:
            has_data = (s.scalar(select(func.count()).select_from(m.Account)) or 0) > 0
            extra = load_program(s).vendor.model_extra or {}
            is_demo = bool(extra.get("demo"))
        if has_data and not is_demo and not force:
            raise WarmintroError(
                f"the store at {c.settings.resolved_database_url} holds imported data; run the demo with another "
                "WARMINTRO_HOME (e.g. WARMINTRO_HOME=/tmp/warmintro-demo) or pass --force")
        err.print(f"Building a demo company with {accounts} customer accounts (seed {seed}) …")
        with Steps(progress_wanted(as_json)) as steps, tempfile.TemporaryDirectory(prefix="warmintro-demo-") as tmp:
            folder = Path(tmp)
            steps.step("Generating accounts, usage, signals, network and emails")
            truth = generate_workspace(folder / "workspace", accounts=accounts, seed=seed, as_of=when)
            # the ledger referrals the workspace says happened, made before the accounts exist (demo/ledger.py)
            steps.step("Recording the referral ledger")
            prepare_store(c.store, folder / "workspace", folder / "pre")
            ledger = record_referrals(c.store, plan_referrals(folder / "workspace", seed, when), seed)
            steps.step("Importing the workspace")
            result = import_folder(c.store, folder / "workspace", progress=steps.callback())
            settle_notices(c.store, when)  # the referrals' past messages count as sent
            steps.step("Scanning today's queue")
            with c.store.session() as s:
                queue = scan(s, when)
        if as_json:
            emit_json({"imported": result.imported, "scan": queue.to_json(), "planted_asks": len(truth.asks),
                       "referrals": {"created": ledger.created, "existing": ledger.existing,
                                     "by_program": ledger.by_program, "blocked": ledger.blocked}})
            return
        out.print(f"Imported {result.imported.get('accounts', 0)} accounts, {result.imported.get('contacts', 0)} contacts, "
                  f"{result.imported.get('usage', 0):,} usage events, {result.imported.get('people', 0):,} people "
                  f"into {c.settings.resolved_database_url}.")
        per_program = ", ".join(f"{ledger.by_program.get(p, 0)} {p}" for p in ("customer", "partner", "employee"))
        out.print(f"Referral ledger: {per_program} referrals ({ledger.created} recorded now, {ledger.existing} "
                  "already there).\n")
        print_queue(queue)
        if queue.asks:
            top = queue.asks[0]
            out.print("\nNext:\n" + "\n".join(f"  warmintro {cmd}" for cmd in (
                f"targets {top.contact_email}", f"personas {top.account_id}", f"why {top.contact_email}",
                f"chat --as {top.csm_email or 'CSM_EMAIL'}", f"scan --as-of {when:%Y-%m-%dT%H:%MZ} --skipped")),
                markup=False)
