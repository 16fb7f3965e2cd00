"""The LLM drafter: a fluent note in the champion's voice, checked against the facts, never the only way.

For each draft:
1. the offline draft is composed first (it is the fallback, and costs nothing);
2. the note prompt (prompts/draft_note.md) gets the facts, the voice profile and the 3 exemplars the
   caller retrieved, trimmed so the whole prompt stays under `max_prompt_tokens` (1,200) by tiktoken's
   count: exemplars are shortened (long ones first), then dropped, before any fact is cut;
3. the model is called with a deadline and `.with_retry(stop_after_attempt=2)` for transport errors;
4. the answer is checked by the grounding validator (and must name the target); a failing answer is
   retried once with the violations named in the prompt, then replaced by the offline draft;
5. the ask (prompts/draft_ask.md) goes the same way; a failing ask falls back to the offline ask alone.
Any model failure (timeout, error, empty answer) falls back to the offline draft. `Draft.model` names
what wrote the note: the model's name, or "offline"; `Draft.notes` says why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from warmintro import metrics
from warmintro.champion_text import strongest_history
from warmintro.errors import WarmintroError
from warmintro.voice.drafting import Draft, DraftFacts, Exemplar
from warmintro.voice.grounding import Grounding, Violation
from warmintro.voice.offline import NoteText, OfflineDrafter, compose_note, expand_contractions, finish_draft
from warmintro.voice.profile import VoiceProfile, parse_message

__all__ = ["LLMDrafter", "ModelError", "PromptBuild", "build_ask_prompt", "build_note_prompt", "prompt_tokens"]

log = logging.getLogger(__name__)

MAX_PROMPT_TOKENS = 1200
ENCODING = "o200k_base"
MESSAGE_OVERHEAD = 4  # tokens a chat format adds per message (role, separators)
REPLY_OVERHEAD = 3


class ModelError(WarmintroError):
    """The model could not be used for this draft (timeout, error, empty answer)."""


# ---------------------------------------------------------------------------------------------------
# Tokens


def _encoding() -> Any:
    import tiktoken

    from warmintro.tokens import count_tokens

    count_tokens("")  # makes sure the offline cache is in place before tiktoken looks for it
    return tiktoken.get_encoding(ENCODING)


def _count(text: str) -> int:
    from warmintro.tokens import count_tokens

    return count_tokens(text, ENCODING)


def prompt_tokens(messages: Sequence[BaseMessage]) -> int:
    """Tokens the messages cost as a chat prompt (o200k_base, plus the chat format's per-message overhead)."""
    return sum(_count(str(m.content)) + MESSAGE_OVERHEAD for m in messages) + REPLY_OVERHEAD


def _truncate(text: str, max_tokens: int) -> str:
    if max_tokens <= 0:
        return ""
    enc = _encoding()
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= max_tokens:
        return text
    return enc.decode(ids[: max(1, max_tokens - 1)]).rstrip() + " …"


# ---------------------------------------------------------------------------------------------------
# Prompts


def _load(name: str) -> tuple[str, str]:
    import prompts

    text = prompts.load(name)
    system, _, user = text.partition("---user---")
    return system.strip(), user.strip()


def _clip(text: str | None, chars: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _voice_lines(profile: VoiceProfile) -> str:
    if profile.n_messages == 0:
        return "- no past emails: write plainly, short and friendly"
    greet = (f'- greeting: "{profile.greeting}" ({profile.greeting_rate:.0%} of their emails open with one)'
             if profile.greeting else "- greeting: usually none; they start straight in")
    if profile.signoff_template:
        signoff = profile.signoff_template.replace("{signoff_name}", profile.signoff_name or "{their name}")
        sign = f"- sign-off: {signoff!r}"
    else:
        sign = "- sign-off: usually none"
    lines = [
        greet,
        sign,
        f"- length: typically {profile.median_message_words:.0f} words, {profile.avg_sentence_words:.0f} words "
        f"per sentence; register {profile.register}; formality {profile.formality:.2f} (0 casual, 1 formal)",
        f"- contractions: {'often' if profile.contraction_rate >= 0.5 else 'rarely'}; exclamation marks: "
        f"{'often' if profile.exclamation_rate >= 0.12 else 'rarely'}; "
        f"{'writes all in lower case; ' if profile.all_lowercase else ''}"
        f"emoji: {', '.join(profile.emojis) if profile.emoji_rate >= 0.2 and profile.emojis else 'none'}",
    ]
    phrases = [p.text for p in profile.recurring_phrases[:6]]
    if phrases:
        lines.append("- phrases they often use: " + "; ".join(f'"{p}"' for p in phrases))
    return "\n".join(lines)


def _fact_lines(facts: DraftFacts, *, with_suggestions: bool) -> str:
    lines = []
    for s in facts.statements():
        if s.startswith("suggested:") and not with_suggestions:
            continue
        lines.append("- " + _clip(s, 400))
    return "\n".join(lines)


def _violation_text(violations: Sequence[Violation | str]) -> str:
    if not violations:
        return ""
    listed = "; ".join(str(v) for v in violations)
    return (f"\nYOUR LAST DRAFT WAS REJECTED: {listed}. Rewrite it using only names, companies, numbers and "
            "email addresses from FACTS.\n")


def _exemplar_block(texts: Sequence[str]) -> str:
    if not texts:
        return "(none)"
    safe = [t.replace("<email", "<e-mail").replace("</email>", "</e-mail>") for t in texts]
    return "\n".join(f"<email>\n{t.strip()}\n</email>" for t in safe)


@dataclass
class PromptBuild:
    messages: list[BaseMessage]
    tokens: int
    exemplar_ids: list[str] = field(default_factory=list)
    truncated: bool = False  # an exemplar was shortened or dropped to fit


def _fit(render: Callable[[list[str]], list[BaseMessage]], exemplars: Sequence[Exemplar], budget: int,
         ) -> PromptBuild:
    """Render with as much of each exemplar as fits under `budget` tokens (water-filling: short exemplars
    stay whole, long ones share what is left), dropping exemplars from the least relevant when needed."""
    texts = [e.text for e in exemplars]
    ids = [e.id for e in exemplars]
    msgs = render(texts)
    n = prompt_tokens(msgs)
    if n < budget:
        return PromptBuild(msgs, n, ids, False)
    while texts:
        base = prompt_tokens(render(["" for _ in texts]))
        room = budget - 1 - base
        if room >= 25 * len(texts):
            lengths = [_count(t) for t in texts]
            cap = _water_level(lengths, room)
            while cap >= 20:
                trimmed = [_truncate(t, cap) for t in texts]
                msgs = render(trimmed)
                n = prompt_tokens(msgs)
                if n < budget:
                    return PromptBuild(msgs, n, ids, True)
                cap = int(cap * 0.9)
        texts, ids = texts[:-1], ids[:-1]
    msgs = render([])
    return PromptBuild(msgs, prompt_tokens(msgs), [], True)


def _water_level(lengths: list[int], room: int) -> int:
    """The largest per-exemplar cap c with sum(min(len, c)) <= room."""
    lo, hi = 0, max(lengths) if lengths else 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(x, mid) for x in lengths) <= room:
            lo = mid
        else:
            hi = mid - 1
    return lo


def build_note_prompt(facts: DraftFacts, profile: VoiceProfile, exemplars: Sequence[Exemplar], *,
                      violations: Sequence[Violation | str] = (), max_tokens: int = MAX_PROMPT_TOKENS) -> PromptBuild:
    """The note prompt, kept under `max_tokens` (exemplars trimmed to fit)."""
    system_t, user_t = _load("draft_note.md")
    names = {
        "champion_name": facts.champion.name, "champion_first": facts.champion.first_name,
        "target_name": facts.target.name, "vendor_name": facts.vendor_name,
    }  # fmt: skip
    system = Template(system_t).safe_substitute(names)
    facts_text = _fact_lines(facts, with_suggestions=False)
    voice_text = _voice_lines(profile)

    def render(texts: list[str]) -> list[BaseMessage]:
        user = Template(user_t).safe_substitute(
            names, facts=facts_text, voice=voice_text, exemplars=_exemplar_block([t for t in texts if t.strip()]),
            violations=_violation_text(violations))
        return [SystemMessage(content=system), HumanMessage(content=user)]

    return _fit(render, exemplars, max_tokens)


def build_ask_prompt(facts: DraftFacts, *, violations: Sequence[Violation | str] = (),
                     max_tokens: int = MAX_PROMPT_TOKENS) -> PromptBuild:
    system_t, user_t = _load("draft_ask.md")
    csm = facts.csm.name if facts.csm else "the customer success team"
    names = {
        "champion_name": facts.champion.name, "champion_first": facts.champion.first_name,
        "csm_name": csm, "csm_first": facts.csm.first_name if facts.csm else "the team",
        "vendor_name": facts.vendor_name,
    }  # fmt: skip
    system = Template(system_t).safe_substitute(names)
    suggested = "\n".join(f"- {_clip(s.line(), 220)}" for s in facts.suggestions) or f"- {facts.target.name}"
    user = Template(user_t).safe_substitute(
        names, facts=_fact_lines(facts, with_suggestions=False), suggested=suggested,
        violations=_violation_text(violations))
    msgs: list[BaseMessage] = [SystemMessage(content=system), HumanMessage(content=user)]
    n = prompt_tokens(msgs)
    if n >= max_tokens:  # many long reasons: shorten them
        suggested = "\n".join(f"- {_clip(s.line(), 90)}" for s in facts.suggestions[:5])
        user = Template(user_t).safe_substitute(
            names, facts=_fact_lines(facts, with_suggestions=False)[: 1500], suggested=suggested,
            violations=_violation_text(violations))
        msgs = [SystemMessage(content=system), HumanMessage(content=user)]
        n = prompt_tokens(msgs)
    return PromptBuild(msgs, n, [], False)


# ---------------------------------------------------------------------------------------------------
# Parsing and checking answers


def _text_of(result: Any) -> str:
    content = getattr(result, "content", result)
    if isinstance(content, list):
        content = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content or "").strip()


def _strip_fences(text: str) -> str:
    text = text.strip()
    m = re.match(r"^```[\w-]*\n(.*)\n```$", text, re.S)
    return m.group(1).strip() if m else text


def parse_note(text: str) -> tuple[str | None, str]:
    """(subject or None, body) from "Subject: ...\\n\\nbody"."""
    text = _strip_fences(text)
    m = re.match(r"^\s*\**subject\**\s*:\s*(?P<subject>[^\n]*)\n+(?P<body>.*)$", text, re.I | re.S)
    if m:
        return m.group("subject").strip().strip("*").strip() or None, m.group("body").strip()
    return None, text.strip()


def _literal_greeting_signoff(body: str) -> tuple[str | None, str | None]:
    lines = [ln.strip() for ln in body.split("\n") if ln.strip()]
    msg = parse_message(body)
    greeting = lines[0] if msg.greeting and lines else None
    if msg.layout == "lines" and len(lines) >= 2:
        return greeting, "\n".join(lines[-2:])
    if msg.layout in ("inline", "name", "valediction") and lines:
        return greeting, lines[-1]
    return greeting, None


# ---------------------------------------------------------------------------------------------------
# The drafter


class LLMDrafter:
    """Drafts with a LangChain chat model; falls back to `fallback` (the offline composer) on any failure."""

    def __init__(self, model: Any, *, name: str | None = None, timeout_s: float = 30.0,
                 max_prompt_tokens: int = MAX_PROMPT_TOKENS, tiktoken_cache_dir: Path | None = None,
                 fallback: OfflineDrafter | None = None, retry_wait: bool = True) -> None:
        self.model = model
        self.name = name or _model_name(model)
        self.timeout_s = timeout_s
        self.max_prompt_tokens = max_prompt_tokens
        self.fallback = fallback or OfflineDrafter()
        self.retry_wait = retry_wait
        if tiktoken_cache_dir is not None:
            from warmintro.tokens import ensure_tiktoken_cache

            ensure_tiktoken_cache(tiktoken_cache_dir)

    @classmethod
    def from_settings(cls, model: Any, settings: Any) -> LLMDrafter:
        return cls(model, name=getattr(settings, "model", None) or None, timeout_s=settings.model_timeout_s,
                   tiktoken_cache_dir=settings.tiktoken_cache_dir)

    # -------------------------------------------------------------------------------------------

    def draft(self, facts: DraftFacts, profile: VoiceProfile, exemplars: Sequence[Exemplar] = ()) -> Draft:
        exemplars = list(exemplars)
        notes: list[str] = []
        vocabulary = _vocabulary(exemplars)
        grounding = Grounding(facts, vocabulary)
        offline_note = compose_note(facts, profile)
        offline_ask = self.fallback.draft(facts, profile, exemplars).ask_text

        try:
            note = self._note(facts, profile, exemplars, grounding, notes)
        except ModelError as exc:
            notes.append(f"model unavailable ({exc}); used the offline draft")
            metrics.count("llm_fallback", source="drafter_note", reason="model_error")
            log.warning("drafting model failed; using the offline draft", extra={"fields": {"error": str(exc)}})
            return finish_draft(facts, profile, exemplars, ask_text=offline_ask, note=offline_note,
                                model=self.fallback.name, ask_model=self.fallback.name, notes=notes,
                                vocabulary=vocabulary)
        if note is None:
            notes.append("the model's note failed the grounding or champion-facing checks twice; used the offline draft")
            metrics.count("llm_fallback", source="drafter_note", reason="ungrounded")
            return finish_draft(facts, profile, exemplars, ask_text=offline_ask, note=offline_note,
                                model=self.fallback.name, ask_model=self.fallback.name, notes=notes,
                                vocabulary=vocabulary)
        try:
            ask = self._ask(facts, grounding, notes)
        except ModelError as exc:
            notes.append(f"model unavailable for the ask ({exc}); used the offline ask")
            metrics.count("llm_fallback", source="drafter_ask", reason="model_error")
            ask = None
        else:
            if ask is None:
                metrics.count("llm_fallback", source="drafter_ask", reason="ungrounded")
        if ask is None:
            ask_text, ask_model = offline_ask, self.fallback.name
        else:
            ask_text, ask_model = ask, self.name
        return finish_draft(facts, profile, exemplars, ask_text=ask_text, note=note, model=self.name,
                            ask_model=ask_model, notes=notes, vocabulary=vocabulary)

    # -------------------------------------------------------------------------------------------

    def _note(self, facts: DraftFacts, profile: VoiceProfile, exemplars: list[Exemplar], grounding: Grounding,
              notes: list[str]) -> NoteText | None:
        violations: list[Violation | str] = []
        offline_subject = compose_note(facts, profile).subject
        for attempt in (1, 2):
            prompt = build_note_prompt(facts, profile, exemplars, violations=violations,
                                       max_tokens=self.max_prompt_tokens)
            subject, body = parse_note(self._invoke(prompt.messages))
            subject = subject or offline_subject
            violations = [*grounding.check(subject), *grounding.check(body),
                          *facts.champion_violations(f"{subject}\n{body}"), *_note_shape(facts, profile, body)]
            if not body.strip():
                violations.append("the note is empty")
            elif facts.target.first_name.lower() not in body.lower():
                violations.append(f"the note does not name {facts.target.name}")
            if not violations:
                greeting, signoff = _literal_greeting_signoff(body)
                return NoteText(subject, body, greeting, signoff)
            notes.append(f"model note attempt {attempt} rejected: " + "; ".join(str(v) for v in violations))
        return None

    def _ask(self, facts: DraftFacts, grounding: Grounding, notes: list[str]) -> str | None:
        violations: list[Violation | str] = []
        for attempt in (1, 2):
            prompt = build_ask_prompt(facts, violations=violations, max_tokens=self.max_prompt_tokens)
            text = _strip_fences(self._invoke(prompt.messages))
            violations = [*grounding.check(text), *facts.champion_violations(text)]
            if not text:
                violations.append("the ask is empty")
            if not violations:
                return text
            notes.append(f"model ask attempt {attempt} rejected: " + "; ".join(str(v) for v in violations))
        notes.append("used the offline ask")
        return None

    def _invoke(self, messages: list[BaseMessage]) -> str:
        """One model call with transport retries (2 attempts) and an overall deadline."""
        try:
            runnable = self.model.with_retry(stop_after_attempt=2, wait_exponential_jitter=self.retry_wait)
        except Exception as exc:  # a model object without the Runnable interface
            raise ModelError(f"{type(exc).__name__}: {exc}") from exc
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warmintro-draft")
        future = pool.submit(runnable.invoke, messages)
        try:
            result = future.result(timeout=self.timeout_s * 2 + 5)
        except FuturesTimeout as exc:
            # Since 3.11 this is the builtin TimeoutError, which the model itself may raise (a read timeout).
            if future.done():
                raise ModelError(f"{type(exc).__name__}: {exc}") from exc
            raise ModelError(f"no answer within {self.timeout_s * 2 + 5:.0f} s") from exc
        except Exception as exc:
            raise ModelError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        metrics.count_usage(result, "drafter")
        text = _text_of(result)
        if not text:
            raise ModelError("empty answer")
        return text


def _note_shape(facts: DraftFacts, profile: VoiceProfile, body: str) -> list[str]:
    """The voice rules a model's note must keep, as the offline note does: the strongest shared history is
    named, a formal writer does not contract, a terse writer stays short."""
    out: list[str] = []
    history = strongest_history(facts.shared_history)
    if history is not None:
        said = expand_contractions(body).lower()
        if history.kind == "coworker" and history.company and history.company.lower() not in said:
            out.append(f"the note does not say you worked together at {history.company}")
        elif history.kind != "coworker" and history.clause(span=False).lower() not in said:
            out.append(f"the note does not name the shared history ({history.clause(span=False)})")
    if profile.n_messages and profile.register == "formal" and re.search(r"\b\w+(?:n't|'m|'re|'ve|'ll|'d)\b", body):
        out.append("a formal writer's note must not use contractions")
    if profile.n_messages and profile.register == "terse":
        words = len(body.split())
        if words > max(45, 2 * (profile.median_message_words or 0)):
            out.append(f"too long for this writer ({words} words; they write about "
                       f"{profile.median_message_words:.0f})")
    return out


def _model_name(model: Any) -> str:
    for attr in ("model_name", "model", "model_id"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def _vocabulary(exemplars: Sequence[Exemplar]) -> set[str]:
    """Words the champion writes in lower case: ordinary words for them, not names."""
    return {w for e in exemplars for w in re.findall(r"(?<![\w'])[a-z][a-z'’-]+", e.text)}
