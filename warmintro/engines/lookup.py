"""Finding an account or a contact by what a person typed: an id or email, or a name (case-insensitive, a
unique prefix will do). An ambiguous name lists the candidates instead of guessing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from warmintro.errors import AmbiguousNameError, NotFoundError
from warmintro.store import models as m

MAX_LISTED = 10


def _like_prefix(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def _one(hits: list[Any], query: str, what: str, label: Any, hint: str) -> Any:
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise NotFoundError(f"no {what} called {query.strip()!r}; {hint}")
    many = f"more than {MAX_LISTED}" if len(hits) > MAX_LISTED else str(len(hits))
    listed = "".join(f"\n  {label(h)}" for h in hits[:MAX_LISTED])
    raise AmbiguousNameError(f"{query.strip()!r} matches {many} {what}s; {hint}:{listed}")


def find_account(session: Session, query: str) -> m.Account:
    """An account by account_id or domain (exact), else by name: exact, then a unique prefix."""
    q = " ".join(query.strip().split())
    if not q:
        raise NotFoundError("give an account id or name")
    hit = session.get(m.Account, q) or session.scalars(select(m.Account).where(
        or_(func.lower(m.Account.account_id) == q.lower(), m.Account.domain == q.lower()))).first()
    if hit is not None:
        return hit
    low = q.lower()
    hits = list(session.scalars(select(m.Account).where(func.lower(m.Account.name) == low).limit(MAX_LISTED + 1)))
    hits = hits or list(session.scalars(select(m.Account).where(func.lower(m.Account.name).like(
        _like_prefix(low), escape="\\")).order_by(m.Account.name).limit(MAX_LISTED + 1)))
    return _one(hits, query, "account", lambda a: f"{a.name} ({a.account_id})", "give the account id")


def find_contact(session: Session, query: str) -> m.Contact:
    """A customer contact by email, or by name (case-insensitive; a unique prefix will do)."""
    q = " ".join(query.strip().split()).lower()
    if not q:
        raise NotFoundError("give a contact's email or name")
    if "@" in q:
        hit = session.scalars(select(m.Contact).where(m.Contact.email == q)).first()
        if hit is None:
            raise NotFoundError(f"no customer contact with email {q!r}")
        return hit
    hits = list(session.scalars(select(m.Contact).where(func.lower(m.Contact.name) == q).limit(MAX_LISTED + 1)))
    hits = hits or list(session.scalars(select(m.Contact).where(func.lower(m.Contact.name).like(
        _like_prefix(q), escape="\\")).order_by(m.Contact.name).limit(MAX_LISTED + 1)))
    return _one(hits, query, "customer contact", lambda c: f"{c.name} <{c.email}>", "give the email")


