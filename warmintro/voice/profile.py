"""A person's writing voice, measured from their own (cleaned) email bodies.

`build_profile(bodies)` reads each body's greeting line, sign-off (valediction and name, on one line or
two), any recurring signature block below it, and the text in between, and measures: greeting and
sign-off forms with frequencies (a name in a greeting becomes a slot: "Hi Sam," -> "Hi {name},"),
sentence and message length, a formality score, contraction, exclamation, question and emoji rates,
capitalisation habits, the recurring phrases (word n-grams this writer uses much more than the
background of other writers) and their recurring opening and closing lines.

Pure functions over strings: the caller (the store, the eval) decides whose emails go in.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from warmintro.voice._lexicon import (
    CASUAL_GREETINGS,
    CASUAL_VALEDICTIONS,
    COMMON_WORDS,
    FORMAL_GREETINGS,
    FORMAL_TOKENS,
    FORMAL_VALEDICTIONS,
    GREETING_WORDS,
    GROUP_ADDRESSEES,
    INFORMAL_TOKENS,
    VALEDICTIONS,
    wordset,
)

__all__ = [
    "FormCount",
    "Phrase",
    "PhraseBackground",
    "VoiceProfile",
    "build_profile",
    "ngram_doc_freq",
    "parse_message",
    "ParsedMessage",
]

NAME_SLOT = "{name}"
FULL_NAME_SLOT = "{full_name}"
NGRAM_SIZES = (2, 3, 4)

# ---------------------------------------------------------------------------------------------------
# Patterns

_URL = re.compile(r"(https?://|www\.)\S+|\S+@\S+\.\w+|\b[\w.+-]+ at [\w-]+(\.[\w-]+)+\b|\b[\w-]+\.(com|org|net|io|ca)\b", re.I)
# Letters are any script's ("Renée", "Jürgen"): an ASCII class would split a name into "ren" + "e".
_L = r"[^\W\d_]"
_WORD = re.compile(rf"{_L}(?:{_L}|['’?])*{_L}|{_L}")
_APOS = "'’?"  # the list archives turned curly apostrophes into '?'
_CONTRACTION = re.compile(
    rf"\b(?:i[{_APOS}](?:m|ve|ll|d)|(?:you|we|they)[{_APOS}](?:re|ve|ll|d)|(?:he|she)[{_APOS}](?:s|ll|d)|"
    rf"(?:it|that|there|here|what|who|where|how|let)[{_APOS}]s|"
    rf"(?:do|does|did|is|are|was|were|have|has|had|would|could|should|must|need|ca|wo|sha|ai)n[{_APOS}]t)\b",
    re.I,
)
_EXPANDED = re.compile(
    r"\b(?:i am|i have|i will|i would|you are|we are|they are|you have|we have|they have|we will|you will|"
    r"it is|that is|there is|here is|what is|let us|do not|does not|did not|is not|are not|was not|were not|"
    r"have not|has not|had not|would not|could not|should not|cannot|can not|will not|must not)\b",
    re.I,
)
_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff]|(?<!\\w)(?:[:;]-?[)(DPp]|<3)(?!\\w)"
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=\S)")
_TRAILING_ATTRIBUTION = re.compile(r"\b(wrote|writes|schreef|schrieb|skrev|a [ée?]crit|escribi[óo?]|ha scritto)\b.{0,120}:$", re.I)
_CODEISH = re.compile(r"[{}\[\]<>=$\\|`#]|::|->|\(\)|^\s{4,}|^\t")

_NAME_TOKEN = rf"(?:{_L}[\w'’.-]*|{_L}{{1,4}}\.?)"  # upper-case first letter checked in `_is_name_line`
_DECOR = r"[-–—/~*]{0,3}\s?"
_NAME_LINE = re.compile(rf"^{_DECOR}{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,3}}\s*[.!]?$")
_LOWER_NAME_LINE = re.compile(rf"^{_DECOR}(?P<name>{_L}(?:{_L}|['-]){{0,15}})$")

_GREETING_RE = re.compile(
    r"^(?P<greet>" + "|".join(re.escape(g) for g in sorted(GREETING_WORDS, key=len, reverse=True)) + r")"
    r"(?![\w'])(?P<rest>.*)$",
    re.I,
)
_VALEDICTION_RE = re.compile(
    r"^(?P<val>" + "|".join(re.escape(v) for v in sorted(VALEDICTIONS, key=len, reverse=True)) + r")"
    r"(?![\w'])(?P<punct>\s*[,.!:;~-]*)\s*(?P<rest>.*)$",
    re.I,
)


# ---------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class FormCount:
    form: str
    count: int
    share: float  # of all messages


@dataclass(frozen=True)
class Phrase:
    text: str
    count: int  # messages that use it
    share: float  # of this writer's messages
    lift: float  # how many times more often than the background (0 when there is no background)


@dataclass
class VoiceProfile:
    n_messages: int = 0
    greetings: list[FormCount] = field(default_factory=list)  # "" = no greeting
    signoffs: list[FormCount] = field(default_factory=list)  # full sign-off template, "" = none
    valedictions: list[FormCount] = field(default_factory=list)  # "Best,", "Cheers," ("" = none)
    signoff_names: list[FormCount] = field(default_factory=list)  # "Priya", "- J" ("" = none)
    greeting: str | None = None  # the most common form; None when they usually do not greet
    signoff: str | None = None  # the most common valediction ("Best regards,"); None when usually none
    signoff_name: str | None = None  # how they usually sign their name
    signoff_template: str = ""  # most common whole sign-off, e.g. "Best,\n{signoff_name}" or "{signoff_name}"
    greeting_rate: float = 0.0
    signoff_rate: float = 0.0
    avg_sentence_words: float = 0.0
    avg_message_words: float = 0.0
    median_message_words: float = 0.0
    avg_sentences: float = 0.0
    avg_paragraphs: float = 0.0
    formality: float = 0.5  # 0 = very casual, 1 = very formal
    contraction_rate: float = 0.0  # contractions / (contractions + expanded forms)
    exclamation_rate: float = 0.0  # share of sentences ending with "!"
    question_rate: float = 0.0
    emoji_rate: float = 0.0  # share of messages with an emoji or emoticon
    emojis: list[str] = field(default_factory=list)
    lowercase_rate: float = 0.0  # share of sentences that start lower-case
    lowercase_i_rate: float = 0.0  # share of the pronoun I written "i"
    all_lowercase: bool = False
    double_space_rate: float = 0.0  # share of sentence breaks written with two spaces
    punctuation: dict[str, float] = field(default_factory=dict)  # per 100 words: comma, semicolon, dash, paren, ellipsis
    adverbs: list[str] = field(default_factory=list)  # their most used style adverbs ("actually", "perhaps"), most first
    i_share: float = 0.5  # "I" among "I" and "we": how much they write in the first person singular
    recurring_phrases: list[Phrase] = field(default_factory=list)
    opening_lines: list[FormCount] = field(default_factory=list)
    closing_lines: list[FormCount] = field(default_factory=list)
    signature_lines: list[str] = field(default_factory=list)  # recurring block below the sign-off

    @property
    def register(self) -> str:
        """"terse", "formal" or "neutral": the shape the offline composer gives a note."""
        if self.n_messages == 0:
            return "neutral"
        if self.formality >= 0.65 or (self.formality >= 0.6 and self.avg_sentence_words >= 11):
            return "formal"
        if self.median_message_words <= 45 or (self.avg_sentence_words <= 9 and self.avg_sentences <= 3.5):
            return "terse"
        return "neutral"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["register"] = self.register
        for key in ("avg_sentence_words", "avg_message_words", "median_message_words", "avg_sentences",
                    "avg_paragraphs", "formality", "contraction_rate", "exclamation_rate", "question_rate",
                    "emoji_rate", "lowercase_rate", "lowercase_i_rate", "greeting_rate", "signoff_rate",
                    "double_space_rate"):
            data[key] = round(float(data[key]), 3)
        for key in ("greetings", "signoffs", "valedictions", "signoff_names", "opening_lines", "closing_lines"):
            data[key] = [{**x, "share": round(x["share"], 3)} for x in data[key]]
        data["recurring_phrases"] = [
            {**x, "share": round(x["share"], 3), "lift": round(x["lift"], 2)} for x in data["recurring_phrases"]
        ]
        return data


@dataclass
class ParsedMessage:
    """One body split into the parts the profile measures."""

    greeting: str | None  # generalised form, e.g. "Hi {name},"; None = no greeting line
    valediction: str | None  # "Best regards,"
    name: str | None  # "Priya", "- J"
    layout: str  # "lines", "inline", "name", "valediction", "none"
    body_lines: list[str]  # the text between greeting and sign-off
    raw_tail: list[str] = field(default_factory=list)  # lines removed below the sign-off (signature)


# ---------------------------------------------------------------------------------------------------
# Parsing one message


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _lines(body: str) -> list[str]:
    return [_CONTROL.sub("", ln).rstrip() for ln in body.replace("\r\n", "\n").split("\n")]


def _is_name_line(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 40:
        return False
    if _NAME_LINE.match(s):
        words = re.findall(rf"{_L}[\w'’-]*", s)
        if not all(w[0].isupper() for w in words):
            return False
        # "Thanks." or "Yes" are words, not a signature: a one-word line must not be a common word.
        return not (len(words) == 1 and words[0].lower() in COMMON_WORDS)
    return False


def _lower_name_line(line: str) -> bool:
    """A one-word lower-case signature ("renée", "-j"), in any script."""
    m = _LOWER_NAME_LINE.match(line.strip())
    return m is not None and m.group("name")[0].islower()


def _greeting_form(line: str) -> tuple[str | None, str]:
    """(generalised greeting, remaining text on the line) or (None, line)."""
    s = line.strip()
    m = _GREETING_RE.match(s)
    if m:
        greet = m.group("greet")
        rest = m.group("rest")
        # The addressee: up to three name-like words, then punctuation or the end of the line.
        am = re.match(r"^(?P<who>(?:\s+[\w'’.-]+){0,3}?)(?P<ws>\s*)(?P<punct>[,:!.;—–-]+|$)\s*(?P<after>.*)$", rest)
        if not am:
            return None, line
        who = am.group("who").strip()
        punct = am.group("punct").strip()
        if am.group("ws") and punct and punct[0] in "—–-":
            punct = " " + punct  # "hey sam —" keeps its spaced dash
        if not punct and not who and rest.strip():
            return None, line
        if who:
            words = who.split()
            if who.lower() in GROUP_ADDRESSEES or words[0].lower() in GROUP_ADDRESSEES or who.lower() == "there":
                slot = who
            elif all(w[:1].isupper() for w in words):
                honorific = words[0].rstrip(".").lower() in {"mr", "mrs", "ms", "dr", "prof", "professor", "sir"}
                slot = FULL_NAME_SLOT if honorific or len(words) > 1 else NAME_SLOT
            elif len(words) == 1 and words[0].islower() and words[0] not in COMMON_WORDS:
                slot = NAME_SLOT  # an all-lowercase writer: "hey sam,"
            else:
                return None, line  # "Hello and welcome to ...": prose, not a greeting line
            form = f"{greet} {slot}{punct}"
        else:
            form = f"{greet}{punct}"
        return form, am.group("after")
    gm = re.match(r"^(?P<who>[A-Za-z][\w'’ ]{0,20}?)\s*(?P<punct>[,:!])$", s)
    if gm and gm.group("who").lower() in GROUP_ADDRESSEES:
        return s, ""  # "All:" / "Folks,"
    # A bare name as the greeting: "Sam," / "Pariksheet,"
    nm = re.match(rf"^(?P<who>{_L}[\w'’-]+(?:\s+{_L}[\w'’-]+)?)\s*(?P<punct>[,:—–-])\s*(?P<after>.*)$", s)
    if (nm and all(w[0].isupper() for w in nm.group("who").split())
            and nm.group("who").split()[0].lower() not in COMMON_WORDS and not nm.group("after")):
        who = nm.group("who")
        slot = FULL_NAME_SLOT if " " in who else NAME_SLOT
        return f"{slot}{nm.group('punct')}", ""
    return None, line


def _valediction(line: str) -> tuple[str, str] | None:
    """("Best regards,", inline name or "") when the line is a valediction (optionally with a name)."""
    s = line.strip()
    m = _VALEDICTION_RE.match(s)
    if not m:
        return None
    rest = m.group("rest").strip()
    punct = m.group("punct").strip()
    if rest and not (_is_name_line(rest) or _lower_name_line(rest)):
        return None  # "Thanks for the quick reply." is a sentence
    if len(s.split()) > 7:
        return None
    return m.group("val") + punct, rest


def _bare_valediction(line: str | None) -> bool:
    """"cheers" alone on its line: a lower-case word under it is how they sign ("cheers\nrenée")."""
    val = _valediction(line) if line is not None else None
    return val is not None and not val[1]


def _strip_tail(lines: list[str], signature: set[str]) -> tuple[list[str], list[str]]:
    """Drop trailing blank lines, recurring signature lines, URLs and footnotes below the sign-off."""
    body = list(lines)
    tail: list[str] = []
    while body:
        last = body[-1].strip()
        if (
            not last
            or _norm_line(last) in signature
            or (_URL.search(last) and len(last.split()) <= 6)
            or re.match(r"^\[\d+\]", last)
            or re.match(r"^[-_=*~.]{2,}$", last)
            or _TRAILING_ATTRIBUTION.search(last)
        ):
            tail.insert(0, body.pop())
            continue
        break
    return body, tail


def _norm_line(line: str) -> str:
    return re.sub(r"\s+", " ", line.strip().lower())


def parse_message(body: str, *, signature: Iterable[str] = (), own_names: Iterable[str] = ()) -> ParsedMessage:
    """Split one body into greeting, text and sign-off. `signature`: normalised lines known to recur below
    this writer's sign-off; `own_names`: sign-off names known to be theirs (recurring), for lower-case or
    one-word signatures that would otherwise look like text."""
    sig = set(signature)
    names = {n.strip() for n in own_names if n.strip()}
    lines, tail = _strip_tail(_lines(body), sig)
    # Greeting: the first non-empty line.
    greeting: str | None = None
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start < len(lines):
        form, after = _greeting_form(lines[start])
        if form is not None:
            greeting = form
            if after.strip():
                lines[start] = after
            else:
                start += 1
    content = lines[start:]
    # Sign-off: look at the last two non-empty lines.
    valediction: str | None = None
    name: str | None = None
    layout = "none"
    idx = [i for i, ln in enumerate(content) if ln.strip()]
    if idx:
        last = content[idx[-1]].strip()
        prev = content[idx[-2]].strip() if len(idx) > 1 else None
        val_last = _valediction(last)
        if val_last is not None:
            valediction, inline = val_last
            name = inline or None
            layout = "inline" if inline else "valediction"
            content = content[: idx[-1]]
        elif last in names or _is_name_line(last) or (_lower_name_line(last) and (
                last in names or _bare_valediction(prev) and last.lstrip("-–—/~* ").lower() not in COMMON_WORDS)):
            val_prev = _valediction(prev) if prev is not None else None
            if val_prev is not None and not val_prev[1]:
                valediction, name, layout = val_prev[0], last, "lines"
                content = content[: idx[-2]]
            elif last in names or (
                (prev is None or re.search(r"[.!?:)]\s*$", prev)) and len(last.split()) <= 3
            ):
                # A name alone under finished text ("...soon.\nDuncan Murdoch").
                name, layout = last, "name"
                content = content[: idx[-1]]
    return ParsedMessage(greeting, valediction, name, layout, content, tail)


# ---------------------------------------------------------------------------------------------------
# Text measurements


def _paragraphs(lines: list[str]) -> list[str]:
    """Hard-wrapped lines joined into paragraphs; code-like lines dropped."""
    paras: list[str] = []
    cur: list[str] = []
    for ln in lines:
        if not ln.strip():
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        if _CODEISH.search(ln) and len(re.findall(r"[A-Za-z]", ln)) < 0.6 * len(ln.strip()):
            continue
        cur.append(ln.strip())
    if cur:
        paras.append(" ".join(cur))
    return paras


def _sentences(paras: list[str]) -> list[str]:
    out: list[str] = []
    for p in paras:
        for s in _SENTENCE_SPLIT.split(p):
            s = s.strip()
            if len(_WORD.findall(s)) >= 1:
                out.append(s)
    return out


def _tokens(text: str) -> list[str]:
    text = _URL.sub(" ", text)
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _sentence_ngrams(sentence: str) -> set[str]:
    toks = [t for t in _tokens(sentence) if "?" not in t]
    out: set[str] = set()
    for n in NGRAM_SIZES:
        for i in range(len(toks) - n + 1):
            out.add(" ".join(toks[i : i + n]))
    return out


def _message_ngrams(sentences: list[str]) -> set[str]:
    grams: set[str] = set()
    for s in sentences:
        if re.search(r"\d", s):
            s = re.sub(r"\S*\d\S*", " | ", s)  # numbers break n-grams
        for part in s.split(" | "):
            grams |= _sentence_ngrams(part)
    return grams


@dataclass
class PhraseBackground:
    """How many messages of other writers use each n-gram: what "much more than others" is measured against."""

    doc_freq: Counter[str]
    n_docs: int

    @classmethod
    def from_bodies(cls, bodies: Iterable[str]) -> PhraseBackground:
        df, n = ngram_doc_freq(bodies)
        return cls(df, n)

    def minus(self, other: PhraseBackground) -> PhraseBackground:
        """This background without one writer's own messages (so they are compared with the others)."""
        df = Counter(self.doc_freq)
        df.subtract(other.doc_freq)
        return PhraseBackground(+df, max(0, self.n_docs - other.n_docs))


def ngram_doc_freq(bodies: Iterable[str]) -> tuple[Counter[str], int]:
    """Per n-gram, the number of messages (text between greeting and sign-off) that use it."""
    df: Counter[str] = Counter()
    n = 0
    for body in bodies:
        msg = parse_message(body)
        df.update(_message_ngrams(_sentences(_paragraphs(msg.body_lines))))
        n += 1
    return df, n


def _forms(counter: Counter[str], n: int, limit: int = 8) -> list[FormCount]:
    return [FormCount(f, c, c / n) for f, c in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def _generic_line(sentence: str) -> bool:
    """A sentence with no names, numbers, addresses or code: safe to reuse in any note."""
    s = sentence.strip()
    if not s or len(s.split()) > 14 or re.search(r"\d|@|https?:|www\.|[{}\[\]<>=$\\|`#_*]|::", s):
        return False
    words = re.findall(r"[A-Za-z][\w'’-]*", s)
    if not words:
        return False
    for i, w in enumerate(words):
        if w[:1].isupper() and not (i == 0 or w in {"I", "I'm", "I've", "I'll", "I'd", "I’m"}):
            return False
    return "?" not in s.replace("?t", "").replace("?s", "").replace("?m", "").replace("?ll", "").replace("?ve", "")


def _proper_nouns(texts: Iterable[str]) -> set[str]:
    """Words this writer capitalises inside sentences more often than not: names, products, places."""
    upper: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for text in texts:
        for m in re.finditer(r"(?<=[\w,;:)] )([A-Za-z][\w'’-]*)", _URL.sub(" ", text)):
            w = m.group(1)
            (upper if w[:1].isupper() else lower)[w.lower()] += 1
    return {w for w, c in upper.items() if c > lower.get(w, 0) and w != "i"}


def _select_phrases(own: Counter[str], n: int, background: PhraseBackground | None, limit: int = 20,
                    exclude_words: set[str] | None = None) -> list[Phrase]:
    if n == 0:
        return []
    exclude = exclude_words or set()
    min_count = max(2, math.ceil(0.08 * n))
    scored: list[tuple[float, Phrase]] = []
    for gram, count in own.items():
        if count < min_count:
            continue
        share = count / n
        toks = gram.split()
        if exclude and any(t in exclude for t in toks):
            continue
        if all(t in _STOP for t in toks) and background is None:
            continue
        if background is not None and background.n_docs > 0:
            p_bg = (background.doc_freq.get(gram, 0) + 0.5) / (background.n_docs + 1.0)
            lift = share / p_bg
            if lift < 3.0:
                continue
            score = share * math.log(lift)
        else:
            if share < 0.2:
                continue
            lift = 0.0
            score = share * len(toks)
        scored.append((score, Phrase(gram, count, share, lift)))
    scored.sort(key=lambda x: (-x[0], x[1].text))
    kept: list[Phrase] = []
    for _, ph in scored:
        # Drop a phrase that is part of (or contains) one already kept with about the same count.
        if any((ph.text in k.text or k.text in ph.text) and ph.count <= k.count * 1.4 and k.count <= ph.count * 1.4
               for k in kept):
            continue
        kept.append(ph)
        if len(kept) == limit:
            break
    return kept


_STOP = wordset("""
a an the of to in on at for from by with and or but is are was were be been it this that these those i you we
they he she my your our their its as if so not no do does did have has had will would can could should may
might there here what which who when where how than then just also all any some very more most such only
""")


def _signature_and_names(bodies: Sequence[str]) -> tuple[set[str], set[str]]:
    """Lines recurring at the end of >= 25% of messages are a signature block, except the top line of that
    block when it is name-like (that is how they sign); recurring last lines that look like names are
    their sign-off names."""
    n = len(bodies)
    if n < 3:
        return set(), set()
    tails: list[list[str]] = []
    counts: Counter[str] = Counter()
    for body in bodies:
        nonempty = [ln.strip() for ln in _lines(body) if ln.strip()]
        tails.append(nonempty)
        counts.update({_norm_line(ln) for ln in nonempty[-8:]})
    recurring = {ln for ln, c in counts.items() if c >= max(2, math.ceil(0.25 * n)) and not _valediction(ln)}
    below: Counter[str] = Counter()  # a name-like line under another line of the block: part of the signature
    for lines in tails:
        i = len(lines)
        while i > 0 and _norm_line(lines[i - 1]) in recurring:
            i -= 1
        for ln in lines[i + 1 :]:
            below[_norm_line(ln)] += 1
    signature = {ln for ln in recurring if not _is_name_line(ln.title()) or below[ln] >= 0.5 * counts[ln]}
    last_lines: Counter[str] = Counter()
    for body in bodies:
        kept, _tail = _strip_tail(_lines(body), signature)
        nonempty = [ln.strip() for ln in kept if ln.strip()]
        if nonempty:
            last_lines[nonempty[-1]] += 1
    names = {ln for ln, c in last_lines.items() if c >= max(2, math.ceil(0.15 * n)) and len(ln.split()) <= 4
             and not _valediction(ln) and (_is_name_line(ln) or _lower_name_line(ln))}
    return signature, names


def _name_tokens(names: Iterable[str]) -> set[str]:
    """The words of a person's own names ("Renée Okonkwo", "- R"): never one of their recurring phrases.
    Common words ("Will", "Mark" as in "mark") are kept, or ordinary phrases would be lost."""
    out: set[str] = set()
    for name in names:
        toks = _tokens(name)
        forms = set(toks)
        if toks:  # short forms of the first name they may sign with: "ren" for "renée", "renee"
            first = toks[0]
            folded = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
            forms |= {w[:k] for w in (first, folded) for k in range(3, len(w) + 1)}
            forms.add(folded)
        out |= {t for t in forms if t and t not in COMMON_WORDS}
    return out


def build_profile(bodies: Sequence[str], *, background: PhraseBackground | None = None,
                  own_name: str | None = None) -> VoiceProfile:
    """Measure a writer's voice from their own cleaned email bodies (see `warmintro.mail.clean_body`).

    `background`: n-gram document frequencies of other writers' messages; recurring phrases are those this
    writer uses at least 3x as often. Without it, phrases are simply the n-grams in >= 20% of messages.
    `own_name`: the writer's name; its words (and those of the names they sign with) are left out of the
    recurring phrases, which describe how they write, not who they are.
    """
    bodies = [b for b in bodies if b and b.strip()]
    n = len(bodies)
    if n == 0:
        return VoiceProfile()

    # Pass 1: the recurring block below the sign-off (signature) and recurring sign-off names.
    signature, own_names = _signature_and_names(bodies)

    greetings: Counter[str] = Counter()
    valedictions: Counter[str] = Counter()
    names: Counter[str] = Counter()
    templates: Counter[str] = Counter()
    openings: Counter[str] = Counter()
    closings: Counter[str] = Counter()
    opening_surface: dict[str, Counter[str]] = {}
    closing_surface: dict[str, Counter[str]] = {}
    own_grams: Counter[str] = Counter()
    words_per_msg: list[int] = []
    sentence_words: list[int] = []
    paragraphs: list[int] = []
    sentences_per_msg: list[int] = []
    contractions = expanded = 0
    exclaim = question = lower_start = n_sent = 0
    i_lower = i_total = 0
    emoji_msgs = 0
    emoji_counter: Counter[str] = Counter()
    informal = formal_tok = total_tokens = 0
    double_space = breaks = 0
    punct: Counter[str] = Counter()
    adverbs: Counter[str] = Counter()
    signature_seen: Counter[str] = Counter()
    all_text: list[str] = []

    for body in bodies:
        msg = parse_message(body, signature=signature, own_names=own_names)
        for ln in msg.raw_tail:
            if _norm_line(ln) in signature:
                signature_seen[ln.strip()] += 1
        greetings[msg.greeting or ""] += 1
        valedictions[msg.valediction or ""] += 1
        names[msg.name or ""] += 1
        if msg.layout == "lines":
            templates[f"{msg.valediction}\n{{signoff_name}}"] += 1
        elif msg.layout == "inline":
            templates[f"{msg.valediction} {{signoff_name}}"] += 1
        elif msg.layout == "name":
            templates["{signoff_name}"] += 1
        elif msg.layout == "valediction":
            templates[msg.valediction or ""] += 1
        else:
            templates[""] += 1

        paras = _paragraphs(msg.body_lines)
        sents = _sentences(paras)
        text = " ".join(paras)
        all_text.append(text)
        toks = _tokens(text)
        words_per_msg.append(len(toks))
        paragraphs.append(len(paras))
        sentences_per_msg.append(len(sents))
        total_tokens += len(toks)
        informal += sum(1 for t in toks if t in INFORMAL_TOKENS)
        formal_tok += sum(1 for t in toks if t in FORMAL_TOKENS)
        contractions += len(_CONTRACTION.findall(text))
        expanded += len(_EXPANDED.findall(text))
        punct["comma"] += text.count(",")
        punct["semicolon"] += text.count(";")
        punct["dash"] += len(re.findall(r"\s[-–—]\s|—|–", text))
        punct["paren"] += len(re.findall(r"\((?=[A-Za-z])", text))
        punct["ellipsis"] += text.count("...") + text.count("…")
        adverbs.update(t for t in toks if t in STYLE_ADVERBS)
        punct["we"] += sum(1 for t in toks if t in ("we", "we're", "we've", "our", "us"))
        punct["i"] += sum(1 for t in toks if t in ("i", "i'm", "i've", "i'd", "i'll", "my", "me"))
        emo = _EMOJI.findall(body)
        if emo:
            emoji_msgs += 1
            emoji_counter.update(emo)
        for p in paras:
            double_space += len(re.findall(r"[.!?]  (?=[A-Z])", p))
            breaks += len(re.findall(r"[.!?] {1,2}(?=[A-Z])", p))
        for s in sents:
            sw = len(_WORD.findall(s))
            sentence_words.append(sw)
            n_sent += 1
            if s.endswith("!"):
                exclaim += 1
            if s.endswith("?"):
                question += 1
            first = re.search(r"[A-Za-z]", s)
            if first and first.group().islower() and not _URL.match(s):
                lower_start += 1
        for m in re.finditer(r"(?<![\w'])([Ii])(?=[\s'’?,.!]|$)", text):
            i_total += 1
            if m.group(1) == "i":
                i_lower += 1
        own_grams.update(_message_ngrams(sents))
        if sents:
            for pos, counter, surface in ((0, openings, opening_surface), (-1, closings, closing_surface)):
                s = sents[pos]
                if _generic_line(s):
                    key = re.sub(r"[^\w\s']", "", s.lower()).strip()
                    counter[key] += 1
                    surface.setdefault(key, Counter())[s] += 1

    def share(x: int, total: int) -> float:
        return x / total if total else 0.0

    def lines_of(counter: Counter[str], surface: dict[str, Counter[str]]) -> list[FormCount]:
        out = []
        for key, c in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            if c < 2 or c < 0.03 * n:
                continue
            out.append(FormCount(surface[key].most_common(1)[0][0], c, c / n))
        return out[:8]

    greeting_forms = _forms(greetings, n)
    valediction_forms = _forms(valedictions, n)
    name_forms = _forms(names, n)
    template_forms = _forms(templates, n)
    top_greeting = next((f.form for f in greeting_forms if f.form), None)
    greeting_rate = 1 - share(greetings.get("", 0), n)
    top_val = next((f.form for f in valediction_forms if f.form), None)
    top_name = next((f.form for f in name_forms if f.form), None)
    signoff_rate = 1 - share(templates.get("", 0), n)

    # Formality: a weighted reading of the signals, 0..1.
    formal_greet = sum(c for f, c in greetings.items() if f and _greet_word(f) in FORMAL_GREETINGS)
    casual_greet = sum(c for f, c in greetings.items() if f and _greet_word(f) in CASUAL_GREETINGS)
    formal_val = sum(c for f, c in valedictions.items() if f and _val_word(f) in FORMAL_VALEDICTIONS)
    casual_val = sum(c for f, c in valedictions.items() if f and _val_word(f) in CASUAL_VALEDICTIONS)
    c_rate = share(contractions, contractions + expanded) if contractions + expanded >= 3 else 0.5
    avg_sw = sum(sentence_words) / len(sentence_words) if sentence_words else 0.0
    ex_rate = share(exclaim, n_sent)
    lc_rate = share(lower_start, n_sent)
    em_rate = share(emoji_msgs, n)
    formality = (
        0.5
        + 0.15 * share(formal_greet, n) - 0.15 * share(casual_greet, n)
        + 0.15 * share(formal_val, n) - 0.12 * share(casual_val, n)
        - 0.25 * (c_rate - 0.5)
        + 0.10 * max(-1.0, min(1.0, (avg_sw - 14) / 10))
        - 0.15 * lc_rate
        - 0.10 * min(1.0, ex_rate * 3)
        - 0.10 * min(1.0, em_rate * 2)
        - 0.10 * min(1.0, share(informal, total_tokens) * 25)
        + 0.05 * min(1.0, share(formal_tok, total_tokens) * 60)
    )  # fmt: skip
    sorted_words = sorted(words_per_msg)
    mid = len(sorted_words) // 2
    median = (sorted_words[mid] if len(sorted_words) % 2 else (sorted_words[mid - 1] + sorted_words[mid]) / 2)
    i_lower_rate = share(i_lower, i_total)
    return VoiceProfile(
        n_messages=n,
        greetings=greeting_forms,
        signoffs=template_forms,
        valedictions=valediction_forms,
        signoff_names=name_forms,
        greeting=top_greeting if greeting_rate >= 0.3 else None,
        signoff=top_val if share(n - valedictions.get("", 0), n) >= 0.3 else None,
        signoff_name=top_name if share(n - names.get("", 0), n) >= 0.2 else None,
        signoff_template=template_forms[0].form if template_forms else "",
        greeting_rate=greeting_rate,
        signoff_rate=signoff_rate,
        avg_sentence_words=avg_sw,
        avg_message_words=sum(words_per_msg) / n,
        median_message_words=float(median),
        avg_sentences=sum(sentences_per_msg) / n,
        avg_paragraphs=sum(paragraphs) / n,
        formality=max(0.0, min(1.0, formality)),
        contraction_rate=c_rate,
        exclamation_rate=ex_rate,
        question_rate=share(question, n_sent),
        emoji_rate=em_rate,
        emojis=[e for e, _ in emoji_counter.most_common(3)],
        lowercase_rate=lc_rate,
        lowercase_i_rate=i_lower_rate,
        all_lowercase=lc_rate >= 0.6 and (i_total == 0 or i_lower_rate >= 0.5),
        double_space_rate=share(double_space, breaks),
        punctuation={k: round(100 * share(punct[k], total_tokens), 2)
                     for k in ("comma", "semicolon", "dash", "paren", "ellipsis")},
        adverbs=[w for w, c in adverbs.most_common(3) if 100 * share(c, total_tokens) >= 0.15],
        i_share=share(punct["i"], punct["i"] + punct["we"]) if punct["i"] + punct["we"] >= 5 else 0.5,
        recurring_phrases=_select_phrases(
            own_grams, n, background,
            exclude_words=_proper_nouns(all_text) | _name_tokens([own_name or "", *own_names,
                                                                   *(f for f, c in names.items() if f and c >= 2)]),
        ),
        opening_lines=lines_of(openings, opening_surface),
        closing_lines=lines_of(closings, closing_surface),
        signature_lines=[ln for ln, _ in signature_seen.most_common(6)],
    )


STYLE_ADVERBS = frozenset(["actually", "really", "perhaps", "maybe", "probably", "indeed", "quite", "just", "also",
                           "certainly", "definitely", "honestly", "basically", "simply", "surely", "obviously"])


def _greet_word(form: str) -> str:
    m = _GREETING_RE.match(form)
    return m.group("greet").lower() if m else ""


def _val_word(form: str) -> str:
    m = _VALEDICTION_RE.match(form)
    return m.group("val").lower() if m else ""
