"""Champion-facing text, read as the champion: one case per defect that must not come back.

For every draft (the ask, the note's subject and body, the mailto link's body) and every ask's ready text
(`scan` place text and question), counts:

    internal_note_leaks        a run of 5 words from a CSM note or someone else's comment
    counts_shown               "30 emails", "NPS 9", "health 99", "fits the ICP"
    tagline_pastes             the vendor's one-liner pasted
    repeated_word_questions    "who in your network is still dealing with CSAT that still takes 78?"
    unused_history             a note that does not name the strongest shared history it had
    unnamed_csm                the CSM's first name without their full name and role
    formal_contractions        a formal writer's note with a contraction
    terse_too_long             a terse writer's note much longer than their own emails
    grounding_violations       (sweep only) a name or number in a draft that the facts do not hold

    python -m evals.champion_facing [--home WARMINTRO_HOME] [--as-of ISO] [--pairs N] [--json]

reads an existing workspace (e.g. one built by `warmintro demo --seed 11`) and prints the counts with
examples; `drafting_metrics` in `evals.engine_metrics` adds the same counts to the quick suite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from warmintro.champion_text import repeated_question_words
from warmintro.voice.offline import expand_contractions

if TYPE_CHECKING:
    from warmintro.voice.drafting import Draft, DraftFacts
    from warmintro.voice.profile import VoiceProfile

DEFECTS = ("internal_note_leaks", "counts_shown", "tagline_pastes", "repeated_word_questions", "unused_history",
           "unnamed_csm", "formal_contractions", "terse_too_long", "grounding_violations")
_CONTRACTION = re.compile(r"\b\w+(?:n't|'m|'re|'ve|'ll|'d)\b|\b(?:it|that|there|what|let)'s\b", re.I)
# a terse writer's note may run this much longer than their median email (a note has to carry a name,
# a history and an offer): beyond it, it no longer reads as theirs
TERSE_SLACK = 1.6
TERSE_MIN_WORDS = 35


def _kind(message: str) -> str:
    if message.startswith("quotes internal"):
        return "internal_note_leaks"
    if message.startswith(("shows a count", "shows a score")):
        return "counts_shown"
    if message.startswith("pastes the vendor"):
        return "tagline_pastes"
    if message.startswith("the question repeats"):
        return "repeated_word_questions"
    return "unnamed_csm"


def check_text(text: str, facts: DraftFacts) -> list[tuple[str, str]]:
    """(defect, detail) for one champion-facing text built from `facts`."""
    return [(_kind(v), v) for v in facts.champion_violations(text)]


def _core_words(body: str, draft: Draft) -> int:
    text = body
    for part in (draft.greeting, draft.signoff):
        if part:
            text = text.replace(part, " ")
    return len(re.findall(r"[\w'’-]+", text))


def check_draft(facts: DraftFacts, profile: VoiceProfile, draft: Draft) -> list[tuple[str, str]]:
    out = check_text(draft.ask_text, facts)
    mailto_body = unquote(draft.mailto.split("body=", 1)[1]) if "body=" in draft.mailto else draft.body
    for text in (draft.subject, draft.body if mailto_body == draft.body else mailto_body):
        out += [d for d in check_text(text, facts) if d[0] != "repeated_word_questions"]
    out += [("repeated_word_questions", f"the note's question repeats {w!r}")
            for w in repeated_question_words(draft.body)]
    clause = facts.history_clause(span=False)
    if clause and clause.lower() not in expand_contractions(draft.body).lower():
        out.append(("unused_history", f"the note does not say {clause!r}"))
    if profile.n_messages and profile.register == "formal":
        hits = _CONTRACTION.findall(draft.body)
        if hits:
            out.append(("formal_contractions", f"formal writer, contractions: {hits[:3]}"))
    if profile.n_messages and profile.register == "terse":
        words, own = _core_words(draft.body, draft), profile.median_message_words or 0
        if words > max(TERSE_MIN_WORDS, TERSE_SLACK * own):
            out.append(("terse_too_long", f"{words} words against their median {own:g}"))
    return out


def summarise(found: Iterable[tuple[str, str]], checked: int) -> dict[str, Any]:
    found = list(found)
    out: dict[str, Any] = {"champion_texts_checked": checked}
    for d in DEFECTS:
        out[d] = sum(1 for k, _ in found if k == d)
    out["_champion_defects"] = [f"{k}: {v}" for k, v in found][:20]
    return out


def sweep(session: Any, as_of: Any, *, pairs: int = 1, drafter: Any = None) -> dict[str, Any]:
    """Every ask of today's scan: its question and place text, and the drafts for its top `pairs` targets."""
    from warmintro.engines.scan import scan
    from warmintro.engines.targets import find_targets
    from warmintro.errors import NotFoundError
    from warmintro.voice.index import store_exemplars
    from warmintro.voice.offline import OfflineDrafter
    from warmintro.voice.service import build_facts, profile_for

    drafter = drafter or OfflineDrafter()
    result = scan(session, as_of)
    found: list[tuple[str, str]] = []
    checked = 0
    for ask in result.asks:
        data = ask.to_json()
        texts = [data["place"]["text"], data.get("ask_frame") or ""]
        try:
            targets = find_targets(session, ask.contact_email, limit=pairs, as_of=as_of).targets
        except NotFoundError:
            targets = []
        for t in targets[:pairs]:
            facts = build_facts(session, ask.contact_email, t.email, now=as_of)
            profile = profile_for(session, ask.contact_email)
            draft = drafter.draft(facts, profile, store_exemplars(session, ask.contact_email, 3))
            found += [(k, f"{ask.contact_email} -> {t.email}: {v}") for k, v in check_draft(facts, profile, draft)]
            found += [("grounding_violations", f"{ask.contact_email} -> {t.email}: {v}") for v in draft.violations
                      if not v.startswith(("ask ", "note "))]
            found += [(k, f"{ask.contact_email} place: {v}") for text in texts
                      for k, v in check_text(text, facts)]
            checked += 4
    return summarise(found, checked)


def main(argv: list[str] | None = None) -> int:
    from warmintro.commands.common import parse_when
    from warmintro.settings import Settings
    from warmintro.store.db import Store

    p = argparse.ArgumentParser(prog="python -m evals.champion_facing")
    p.add_argument("--home", help="WARMINTRO_HOME of the workspace (default: the environment's)")
    p.add_argument("--as-of", default=None)
    p.add_argument("--pairs", type=int, default=1)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    settings = Settings(home=args.home) if args.home else Settings()
    store = Store.open(settings.resolved_database_url)
    with store.session() as s:
        out = sweep(s, parse_when(args.as_of), pairs=args.pairs)
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
    else:
        for k, v in out.items():
            if not k.startswith("_"):
                print(f"{k:28} {v}")
        for line in out["_champion_defects"]:
            print("  " + line)
    return 1 if any(out[d] for d in DEFECTS) else 0


if __name__ == "__main__":
    sys.exit(main())
