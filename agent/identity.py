"""Who is talking: a Slack user becomes a team member with a vendor role, a customer contact (a champion),
or nobody we know. Everything the agent and the Slack app may show follows from this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.store import models as m

Role = Literal["csm", "ae", "sdr", "revops", "admin", "employee", "investor", "advisor", "partner", "champion", "unknown"]
VENDOR_ROLES = ("csm", "ae", "sdr", "revops", "admin", "employee")
REP_ROLES = ("ae", "sdr")


@dataclass(frozen=True)
class Identity:
    role: Role
    slack_user_id: str | None = None
    email: str | None = None
    name: str | None = None
    account_id: str | None = None  # a champion's account
    external: bool = False  # a Slack Connect user from another organisation

    @property
    def is_vendor(self) -> bool:
        return self.role in VENDOR_ROLES and not self.external

    @property
    def is_champion(self) -> bool:
        return self.role == "champion"

    @property
    def label(self) -> str:
        return self.name or self.email or self.slack_user_id or "someone"


def resolve_identity(session: Session, *, slack_user_id: str | None = None, email: str | None = None,
                     external: bool = False, lookup_email: Callable[[str], str | None] | None = None) -> Identity:
    """team.csv slack_user_id first, then the user's email (given, or looked up via users.info), matched
    against the team and then the customer contacts. External (Slack Connect) users can only ever be
    champions, whatever their email says."""
    if slack_user_id and not external:
        member = session.scalars(select(m.TeamMember).where(m.TeamMember.slack_user_id == slack_user_id)).first()
        if member is not None:
            return Identity(member.role, slack_user_id, member.email, member.name)  # type: ignore[arg-type]
    if slack_user_id:
        contact = session.scalars(select(m.Contact).where(m.Contact.slack_user_id == slack_user_id)).first()
        if contact is not None:
            return Identity("champion", slack_user_id, contact.email, contact.name, contact.account_id, external)
    if email is None and slack_user_id and lookup_email is not None:
        email = lookup_email(slack_user_id)
    if email:
        email = email.strip().lower()
        if not external:
            member = session.get(m.TeamMember, email)
            if member is not None:
                return Identity(member.role, slack_user_id, member.email, member.name)  # type: ignore[arg-type]
        contact = session.scalars(select(m.Contact).where(m.Contact.email == email)).first()
        if contact is not None:
            return Identity("champion", slack_user_id, contact.email, contact.name, contact.account_id, external)
    return Identity("unknown", slack_user_id, email, None, None, external)
