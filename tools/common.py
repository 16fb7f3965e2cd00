"""Shared lookups for tools: finding accounts and contacts by what a person typed."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from agent.context import AgentContext, ToolDenied
from warmintro.engines import lookup
from warmintro.store import models as m

EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")


def require(ctx: AgentContext, *roles: str) -> None:
    who = ctx.identity
    if who.role not in roles or (who.external and "champion" not in roles):
        raise ToolDenied(f"{who.role} users cannot do that")


def find_account(session: Session, query: str) -> m.Account | None:
    """An account by id, domain, or name (exact, then prefix, then contains; case-insensitive)."""
    q = query.strip().strip("?.!,'\"").lower()
    q = re.sub(r"^(https?://)?(www\.)?", "", q).rstrip("/")
    if not q:
        return None
    for cond in (func.lower(m.Account.account_id) == q, m.Account.domain == q, func.lower(m.Account.name) == q):
        hit = session.scalars(select(m.Account).where(cond)).first()
        if hit:
            return hit
    for pattern in (f"{q}%", f"%{q}%"):
        hit = session.scalars(select(m.Account).where(or_(func.lower(m.Account.name).like(pattern),
                                                          m.Account.domain.like(pattern))).order_by(m.Account.name)).first()
        if hit:
            return hit
    return None


def find_contact(session: Session, query: str) -> m.Contact:
    """A customer contact by email or name, as the CLI finds one (`engines.lookup.find_contact`: a unique name
    prefix will do; an ambiguous one lists the candidates), after dropping the punctuation chat adds around it.
    Raises NotFoundError with a message fit to show."""
    return lookup.find_contact(session, query.strip().strip("?.!,'\""))
