"""Who a referrer is: the program a referral from them belongs to (customer, employee, partner).

Shared by the ledger (recording referrals) and attribution (crediting deals tagged with a referrer)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.store import models as m

VENDOR_ROLES = ("csm", "ae", "sdr", "revops", "admin", "employee")


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def infer_program(session: Session, referrer: str) -> str:
    """customer contact -> customer; vendor team member -> employee; partner contact or partner domain -> partner."""
    if session.scalars(select(m.Contact.email).where(m.Contact.email == referrer)).first():
        return "customer"
    member = session.get(m.TeamMember, referrer)
    if member is not None and member.role in VENDOR_ROLES:
        return "employee"
    if member is not None and member.role == "partner":
        return "partner"
    partner = session.scalars(select(m.Partner).where(
        (m.Partner.contact_email == referrer) | (m.Partner.domain == domain_of(referrer)))).first()
    if partner is not None:
        return "partner"
    return "customer"
