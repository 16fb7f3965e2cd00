"""Voice and drafting (engine 7): voice profiles from a champion's own emails, exemplar retrieval from the
vector store, two drafters behind one interface (offline composer, LLM), and the grounding validator.

The calls other parts of the product make:

    from warmintro.voice import draft_for, draft_in_session, profile_for, build_facts, index_emails

    draft_for(store, settings, champion_email, target_email, *, now=None, model=None, offline=False) -> Draft
    draft_in_session(session, champion_email, target_email, *, settings=None, now=None, model=None) -> Draft
    Draft.to_json()  # the contract's `draft --json` shape; Draft.mailto is the one-click forward link
"""

from __future__ import annotations

from warmintro.voice.drafting import Draft, Drafter, DraftFacts, Exemplar, PersonRef, Suggestion, mailto_link
from warmintro.voice.grounding import Grounding, Violation, validate
from warmintro.voice.index import IndexResult, index_emails, open_email_index, retrieve_exemplars
from warmintro.voice.offline import OfflineDrafter, compose_ask, compose_note
from warmintro.voice.profile import PhraseBackground, VoiceProfile, build_profile
from warmintro.voice.service import (
    build_facts,
    draft_for,
    draft_in_session,
    make_drafter,
    profile_for,
    voice_report,
)

__all__ = [
    "Draft",
    "DraftFacts",
    "Drafter",
    "Exemplar",
    "Grounding",
    "IndexResult",
    "OfflineDrafter",
    "PersonRef",
    "PhraseBackground",
    "Suggestion",
    "Violation",
    "VoiceProfile",
    "build_facts",
    "build_profile",
    "compose_ask",
    "compose_note",
    "draft_for",
    "draft_in_session",
    "index_emails",
    "mailto_link",
    "make_drafter",
    "open_email_index",
    "profile_for",
    "retrieve_exemplars",
    "validate",
    "voice_report",
]
