"""The voice engine over the store: profiles, facts, exemplars and drafts for a champion and a target.

These are the calls the CLI, the Slack app and the agent make:

    profile_for(session, email) -> VoiceProfile
    build_facts(session, champion_email, target_email, *, now=None) -> DraftFacts
    draft_in_session(session, champion_email, target_email, *, settings=None, now=None, model=None,
                     offline=False, index=None) -> Draft
    draft_for(store, settings, champion_email, target_email, *, now=None, model=None, offline=False,
              index=None) -> Draft
    ask_with_notes(session, champion_email, *, settings=None, now=None, targets=None, limit=3) -> AskWithNotes
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.champion_text import human_reason
from warmintro.errors import NotFoundError
from warmintro.program import Program, load_program
from warmintro.store import models as m
from warmintro.voice.drafting import Draft, Drafter, DraftFacts, Exemplar, PersonRef, Suggestion
from warmintro.voice.index import exemplar_query, retrieve_exemplars, store_exemplars
from warmintro.voice.offline import OfflineDrafter
from warmintro.voice.profile import PhraseBackground, VoiceProfile, build_profile

if TYPE_CHECKING:
    from vectorstore.client import EmailIndex
    from warmintro.settings import Settings
    from warmintro.store.db import Store

__all__ = ["AskWithNotes", "ask_with_notes", "build_facts", "draft_for", "draft_in_session", "make_drafter", "profile_for", "voice_report"]

log = logging.getLogger(__name__)

PROFILE_EMAILS = 400  # the champion's latest emails a profile is built from
BACKGROUND_EMAILS = 800  # other people's latest emails that recurring phrases are compared with
SUGGESTIONS = 5
EXEMPLARS = 3


# ---------------------------------------------------------------------------------------------------
# Profiles


def _bodies(session: Session, author: str, limit: int) -> list[str]:
    rows = session.scalars(
        select(m.EmailMessage.body).where(m.EmailMessage.from_email == author)
        .order_by(m.EmailMessage.sent_at.desc()).limit(limit)
    ).all()
    return [b for b in rows if b and b.strip()]


def profile_for(session: Session, email: str, *, limit: int = PROFILE_EMAILS,
                background_limit: int = BACKGROUND_EMAILS) -> VoiceProfile:
    """The voice profile of `email` from their latest emails in the store (empty when they have none)."""
    author = email.strip().lower()
    bodies = _bodies(session, author, limit)
    if not bodies:
        return VoiceProfile()
    others = session.scalars(
        select(m.EmailMessage.body).where(m.EmailMessage.from_email != author)
        .order_by(m.EmailMessage.sent_at.desc()).limit(background_limit)
    ).all()
    background = PhraseBackground.from_bodies([b for b in others if b]) if len(others) >= 20 else None
    return build_profile(bodies, background=background, own_name=_known_name(session, author))


def _known_name(session: Session, email: str) -> str | None:
    contact = session.scalar(select(m.Contact).where(m.Contact.email == email))
    if contact is not None:
        return contact.name
    person = session.get(m.Person, email)
    if person is not None:
        return person.name
    member = session.get(m.TeamMember, email)
    return member.name if member is not None else None


def voice_report(session: Session, email: str) -> dict[str, Any]:
    """`voice EMAIL --json`: the profile plus who it is. Unknown people -> NotFoundError."""
    author = email.strip().lower()
    name = _known_name(session, author)
    profile = profile_for(session, author)
    if name is None and profile.n_messages == 0:
        raise NotFoundError(f"no one with email {email!r}: not a contact, person or team member, and no emails")
    return {"email": author, "name": name, **profile.to_json()}


# ---------------------------------------------------------------------------------------------------
# Facts


def _trigger(session: Session, email: str, account_id: str | None, now: datetime,
             program: Program) -> tuple[str | None, str | None]:
    """(notes, type) of the champion's latest positive moment within the scan's lookback, by the scan's own
    rules (docs/rules.md): their own signals and their account's (an account-level QBR only when they
    attended it); NPS >= promoter_min, a QBR read as positive, any other trigger not negative. Sentiment is
    inferred (with the scan's classifier) only for a candidate that needs it, newest first, so drafting does
    not pay for scanning the whole store."""
    from sqlalchemy import or_

    from warmintro.engines.scan import TRIGGER_TYPES, _default_sentiment
    from warmintro.engines.timeutil import day_of

    since = now - timedelta(days=program.rules.trigger_lookback_days)
    mine = m.Signal.contact_email == email
    cond = or_(mine, (m.Signal.contact_email.is_(None)) & (m.Signal.account_id == account_id)) if account_id else mine
    rows = session.scalars(
        select(m.Signal).where(cond, m.Signal.type.in_(TRIGGER_TYPES), m.Signal.occurred_at > since,
                               m.Signal.occurred_at <= now)
        .order_by(m.Signal.occurred_at.desc(), m.Signal.signal_id)
    ).all()
    for r in rows:
        if r.contact_email is None and r.type == "qbr":
            attended = session.scalars(
                select(m.Meeting.occurred_at).join(m.MeetingAttendee, m.MeetingAttendee.meeting_id == m.Meeting.meeting_id)
                .where(m.Meeting.kind == "qbr", m.Meeting.account_id == r.account_id, m.MeetingAttendee.email == email)
            ).all()
            if day_of(r.occurred_at) not in {day_of(a) for a in attended}:
                continue
        if r.type == "nps":
            ok = r.score is not None and r.score >= program.rules.promoter_min
        else:
            label = r.sentiment
            if not label and r.notes and r.notes.strip():
                try:
                    label = _default_sentiment([r.notes], session)[0]
                except Exception as exc:  # no classifier: a QBR is not assumed positive, other triggers are
                    log.warning("sentiment unavailable for %s: %s", r.signal_id, exc)
            ok = label == "positive" if r.type == "qbr" else label != "negative"
        if ok:
            return r.notes, r.type
    return None, None


def _person_ref(session: Session, email: str, now: datetime) -> PersonRef | None:
    person = session.get(m.Person, email)
    contact = session.scalar(select(m.Contact).where(m.Contact.email == email))
    job = session.scalars(
        select(m.Employment).where(m.Employment.email == email, m.Employment.start <= now)
        .order_by(m.Employment.start.desc(), m.Employment.id)  # equal starts: table order
    ).first()
    current = job if job is not None and (job.end is None or job.end > now) else None
    name = (person.name if person else None) or (contact.name if contact else None)
    if name is None:
        return None
    company = (person.company if person else None) or (current.company if current else None)
    if company is None and contact is not None:
        account = session.get(m.Account, contact.account_id)
        company = account.name if account else None
    title = (person.title if person else None) or (current.title if current else None) or (
        contact.title if contact else None)
    return PersonRef(name, email, company, title)


def build_facts(session: Session, champion_email: str, target_email: str, *, now: datetime | None = None,
                program: Program | None = None) -> DraftFacts:
    """Everything a draft may say, from the store: champion (contact + account), target (targets engine, else
    people), shared history (the targets engine's evidence for the pair), the latest positive trigger and
    the problem it solved, the vendor, the CSM and the 3-5 suggested names with one-line reasons."""
    from warmintro.engines.problem import extract_problem
    from warmintro.engines.targets import find_targets

    now = (now or datetime.now(UTC)).astimezone(UTC)
    champ = champion_email.strip().lower()
    target_email = target_email.strip().lower()
    contact = session.scalar(select(m.Contact).where(m.Contact.email == champ))
    if contact is None:
        raise NotFoundError(f"no champion with email {champion_email!r}: not a customer contact")
    account = session.get(m.Account, contact.account_id)
    program = program or load_program(session)

    result = find_targets(session, champ, limit=50, as_of=now)
    ranked = {t.email: t for t in result.targets}
    hit = ranked.get(target_email)
    if hit is not None:
        target = PersonRef(hit.name or target_email, target_email, hit.company, hit.title)
        history = list(hit.evidence)
    else:
        ref = _person_ref(session, target_email, now)
        if ref is None:
            raise NotFoundError(f"no person with email {target_email!r} in the imported people or contacts")
        target = ref
        history = _pair_evidence(session, champ, target_email, now)

    top = result.targets[:SUGGESTIONS]
    if hit is not None and hit not in top:
        top = [hit, *top[: SUGGESTIONS - 1]]
    suggestions = [Suggestion(t.name or t.email, t.email, t.company, t.title, human_reason(t.evidence, now))
                   for t in top]
    if hit is None:
        suggestions = [Suggestion(target.name, target.email, target.company, target.title,
                                  human_reason(history, now)), *suggestions[: SUGGESTIONS - 1]]

    notes, trigger_type = _trigger(session, champ, contact.account_id, now, program)
    own_words = _own_comments(session, champ, now)
    problem = extract_problem(notes, also=[*own_words, *_account_notes(session, contact.account_id, now)])
    # what it did for them goes into their note only in their own words: their NPS comment
    solved = None
    if trigger_type == "nps" and notes:
        mine = extract_problem(notes)
        solved = mine.solved if mine else None
    csm: PersonRef | None = None
    if account is not None and account.csm_email:
        member = session.get(m.TeamMember, account.csm_email)
        if member is not None:
            csm = PersonRef(member.name, member.email, program.vendor.name, "customer success manager")
    return DraftFacts(
        champion=PersonRef(contact.name, champ, account.name if account else None, contact.title),
        target=target,
        vendor_name=program.vendor.name,
        vendor_one_liner=program.vendor.one_liner,
        shared_history=tuple(history),
        trigger_text=" ".join(notes.split()) if notes else None,
        trigger_type=trigger_type,
        problem_solved=solved,
        dealing_with=problem.dealing_with if problem else None,
        csm=csm,
        suggestions=tuple(suggestions),
        internal_notes=tuple(n for n in _account_notes(session, contact.account_id, now) if n != notes),
    )


def _own_comments(session: Session, email: str, now: datetime) -> list[str]:
    """The champion's own latest NPS comments (their words: a source of the problem's topic)."""
    return _latest_notes(session, (m.Signal.contact_email == email) & (m.Signal.type == "nps"), now)


def _account_notes(session: Session, account_id: str | None, now: datetime) -> list[str]:
    """Their account's latest QBR notes: a source of the problem's topic only, never quoted."""
    if not account_id:
        return []
    return _latest_notes(session, (m.Signal.account_id == account_id) & (m.Signal.type == "qbr"), now)


def _latest_notes(session: Session, cond: Any, now: datetime, limit: int = 5) -> list[str]:
    rows = session.scalars(
        select(m.Signal.notes).where(cond, m.Signal.occurred_at <= now, m.Signal.notes.is_not(None))
        .order_by(m.Signal.occurred_at.desc()).limit(limit)
    ).all()
    return [r for r in rows if r and r.strip()]


def _pair_evidence(session: Session, a: str, b: str, now: datetime) -> list[str]:
    from warmintro.engines.graph import get_graph

    graph = get_graph(session, as_of=now)
    ia, ib = graph.id_of(a), graph.id_of(b)
    if ia is None or ib is None:
        return []
    return [e.text for e in graph.evidence(ia, ib)]


# ---------------------------------------------------------------------------------------------------
# Drafting


def make_drafter(settings: Settings | None, *, model: Any = None, offline: bool = False) -> Drafter:
    """The LLM drafter when a model is given or configured, else the offline composer."""
    if offline:
        return OfflineDrafter()
    from warmintro.voice.llm import LLMDrafter

    if model is not None:
        if settings is None:
            return LLMDrafter(model)
        return LLMDrafter(model, timeout_s=settings.model_timeout_s, tiktoken_cache_dir=settings.tiktoken_cache_dir)
    if settings is None:
        return OfflineDrafter()
    from agent.models import make_chat_model

    chat = make_chat_model(settings)
    return OfflineDrafter() if chat is None else LLMDrafter.from_settings(chat, settings)


def _index_author(session: Session, index: EmailIndex, author: str) -> int:
    """Embed the author's not-yet-embedded emails inside the caller's transaction (exemplars need them)."""
    rows = session.scalars(select(m.EmailMessage).where(m.EmailMessage.from_email == author,
                                                        m.EmailMessage.embedded.is_(False))).all()
    if rows:
        from warmintro.voice.index import _record

        index.upsert(_record(r) for r in rows)
        for r in rows:
            r.embedded = True
        session.flush()
    return len(rows)


def _exemplars(session: Session, settings: Settings | None, index: EmailIndex | None, author: str,
               facts: DraftFacts, now: datetime, notes: list[str]) -> list[Exemplar]:
    try:
        if index is None:
            if settings is None:
                raise RuntimeError("no settings to open the vector store with")
            from warmintro.voice.index import open_email_index

            index = open_email_index(settings)
        _index_author(session, index, author)
        found = retrieve_exemplars(index, author, exemplar_query(facts), k=EXEMPLARS, until=now)
        if found:
            return found
    except Exception as exc:  # the vector store is optional for drafting: fall back to recent emails
        log.warning("exemplar retrieval failed; using the latest emails",
                    extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}})
        notes.append(f"vector store unavailable ({type(exc).__name__}); exemplars are the latest emails")
    return store_exemplars(session, author, EXEMPLARS)


def draft_in_session(session: Session, champion_email: str, target_email: str, *, settings: Settings | None = None,
                     now: datetime | None = None, model: Any = None, offline: bool = False,
                     index: EmailIndex | None = None) -> Draft:
    """The ask and the forwardable note for one champion and one target, grounded in the store's facts.

    `model`: a LangChain chat model to draft with (default: `agent.models.make_chat_model(settings)`, which
    is None when no model is configured); `offline=True` forces the offline composer. Unknown champion or
    target -> NotFoundError."""
    if settings is None:
        from warmintro.settings import Settings

        settings = Settings()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    facts = build_facts(session, champion_email, target_email, now=now)
    author = facts.champion.email or champion_email.strip().lower()
    profile = profile_for(session, author)
    notes: list[str] = []
    exemplars = _exemplars(session, settings, index, author, facts, now, notes)
    drafter = make_drafter(settings, model=model, offline=offline)
    draft = drafter.draft(facts, profile, exemplars)
    draft.notes = notes + draft.notes
    return draft


def draft_for(store: Store, settings: Settings, champion_email: str, target_email: str, *,
              now: datetime | None = None, model: Any = None, offline: bool = False,
              index: EmailIndex | None = None) -> Draft:
    """`draft_in_session` in its own transaction (exemplar indexing flags are committed with it)."""
    with store.session() as session:
        return draft_in_session(session, champion_email, target_email, settings=settings, now=now, model=model,
                                offline=offline, index=index)


# ---------------------------------------------------------------------------------------------------
# The ask with its notes (what a CSM reviews before asking: `/referrals draft`, chat, the approval page)


@dataclass
class AskWithNotes:
    """The ask to a champion and their forwardable note to each suggested person."""

    champion_email: str
    champion_name: str
    ask_text: str
    notes: list[Draft]

    def to_json(self) -> dict[str, Any]:
        return {"champion": {"email": self.champion_email, "name": self.champion_name}, "ask": self.ask_text,
                "notes": [{"to": d.to_email, "subject": d.subject, "body": d.body, "mailto": d.mailto,
                           "model": d.model} for d in self.notes]}


def ask_with_notes(session: Session, champion_email: str, *, settings: Settings | None = None,
                   now: datetime | None = None, targets: list[str] | None = None, limit: int = 3,
                   model: Any = None, offline: bool = False, index: EmailIndex | None = None) -> AskWithNotes:
    """The ask and a note per target (default: the champion's top `limit` targets), each drafted by
    `draft_in_session`, the code behind `warmintro draft` and the approval page. Unknown champion, or no one
    to suggest -> NotFoundError."""
    from warmintro.engines.targets import find_targets

    now = (now or datetime.now(UTC)).astimezone(UTC)
    champ = champion_email.strip().lower()
    contact = session.scalar(select(m.Contact).where(m.Contact.email == champ))
    if contact is None:
        raise NotFoundError(f"no champion with email {champion_email!r}: not a customer contact")
    if targets is None:
        targets = [t.email for t in find_targets(session, champ, limit=limit, as_of=now).targets[:limit]]
    if not targets:
        raise NotFoundError(f"no one in {contact.name}'s network fits the ICP yet: nothing to draft")
    notes = [draft_in_session(session, champ, t, settings=settings, now=now, model=model, offline=offline,
                              index=index) for t in targets]
    return AskWithNotes(champ, contact.name, notes[0].ask_text, notes)
