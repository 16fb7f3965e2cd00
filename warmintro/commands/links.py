"""`warmintro link approve|referrer`: signed links to the web pages (docs/web.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from warmintro.commands.common import emit_json, out, use_context


def register(app: typer.Typer) -> None:
    link = typer.Typer(help="Signed links to the web pages (approval page, referral form, tracking link).",
                       no_args_is_help=True)
    app.add_typer(link, name="link")

    @link.command("approve")
    def approve(
        ctx: typer.Context,
        champion: Annotated[str, typer.Argument(help="The champion's email (their open ask).")],
        ttl: Annotated[str, typer.Option("--ttl", help="How long the link works: 7d, 36h, 90m, 2w.")] = "7d",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """A signed, expiring link to the champion's open ask: names, reasons, a note per name, Approve."""
        from warmintro.weblinks import approval_link, parse_ttl

        c = use_context(ctx)
        result = approval_link(c.store, c.settings, champion, datetime.now(UTC), parse_ttl(ttl))
        if as_json:
            emit_json(result.to_json())
            return
        out.print(f"{result.url}\n(works until {result.to_json()['expires_at']})")

    @link.command("referrer")
    def referrer(
        ctx: typer.Context,
        email: Annotated[str, typer.Argument(help="The referrer's email.")],
        ttl: Annotated[str, typer.Option("--ttl", help="How long the form link works.")] = "365d",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """The referrer's personal tracking link and their three-field submission form."""
        from warmintro.weblinks import parse_ttl, referrer_links

        c = use_context(ctx)
        result = referrer_links(c.store, c.settings, email, datetime.now(UTC), parse_ttl(ttl))
        if as_json:
            emit_json(result.to_json())
            return
        out.print(f"tracking link: {result.tracking_url}\nsubmission form: {result.form_url}")
