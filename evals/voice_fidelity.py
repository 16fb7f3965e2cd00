"""Does the offline composer write in the champion's voice? Measured on real authors' emails.

Data: the R-package-devel mailing list, 56 real authors with 30-929 posts each (../shared/data/email_voice,
read in place, never copied). Each author's posts are cleaned the way the importer cleans bodies
(`warmintro.mail.clean_body`) and split by date: the older 70% build the author's voice profile (and the
retrieval pool), the newer 30% are held out.

1. For every author the offline composer drafts one note from *neutral facts*: the same made-up target,
   vendor, shared history and CSM for everyone; only the champion (the author, by name) differs.
2. An authorship classifier is trained on the held-out newer posts only: TF-IDF over character 2-4-grams
   (case kept) and word 1-2-grams, sublinear tf, smooth idf, each block L2-normalised, and a nearest-centroid
   (cosine) rule per author, in numpy/scipy. It never sees the older posts or any draft.
3. It names the author of each draft. Top-1 accuracy is compared with chance (1/authors) and with a generic
   template baseline: the same facts in the same note for everyone, opened with "Hi," and closed "Best,".
   Two further rows separate voice from signature: the composer's note without the sign-off name, and the
   generic note signed with the champion's first name.
4. Prompt size: for each author the LLM note prompt is built (no model is called) with the 3 exemplars
   retrieved from the vector store (MiniLM embeddings in Chroma, author filter) and trimmed to the
   1,200-token budget, against a prompt that pastes all of the author's older emails.

    python -m evals.voice_fidelity [--json] [--quick] [--authors N] [--max-posts N] [--no-tokens]

`run(quick=True)` is the same eval as a function (for an eval suite).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from warmintro.mail import clean_body
from warmintro.voice.drafting import DraftFacts, Exemplar, PersonRef, Suggestion
from warmintro.voice.offline import OfflineDrafter, compose_note
from warmintro.voice.profile import PhraseBackground, VoiceProfile, build_profile

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "email_voice" / "r-package-devel_by_author.jsonl"
OLDER_SHARE = 0.7
MAX_DOC_CHARS = 4000


# ---------------------------------------------------------------------------------------------------
# Data


@dataclass
class Post:
    id: str
    date: str
    subject: str
    body: str


@dataclass
class Author:
    key: str
    name: str  # as a person would write it: "Russell V Lenth" for "Lenth, Russell V"
    older: list[Post]
    newer: list[Post]

    @property
    def email(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", ".", _ascii(self.key).lower()).strip(".")
        return f"{slug}@example.org"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _display_name(raw: str) -> str:
    name = raw.split(" - ")[0].strip()  # "Roy Mendelssohn - NOAA Federal"
    if "," in name:  # "Lenth, Russell V"
        last, first = (p.strip() for p in name.split(",", 1))
        name = f"{first} {last}"
    return _ascii(name) or raw


def load_authors(path: Path = DATA, authors: int | None = None, max_posts: int | None = None) -> list[Author]:
    """Every author (or `authors` of them, evenly spread over the alphabetical list), posts split by date;
    `max_posts`: only each author's latest N posts (the quick variant)."""
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                by_key[row["author_key"]].append(row)
    keys = sorted(by_key)
    if authors is not None and authors < len(keys):
        keys = [keys[round(i * (len(keys) - 1) / max(1, authors - 1))] for i in range(authors)] if authors > 1 \
            else keys[:1]
    out: list[Author] = []
    for key in keys:
        rows = sorted(by_key[key], key=lambda r: r["date"])
        posts = [Post(r.get("message_id") or f"{key}-{i}", r["date"], r.get("subject") or "",
                      clean_body(r.get("body_own_text") or "")) for i, r in enumerate(rows)]
        posts = [p for p in posts if p.body.strip()]
        if max_posts is not None:
            posts = posts[-max_posts:]
        cut = int(round(OLDER_SHARE * len(posts)))
        out.append(Author(key, _display_name(rows[0]["author"]), posts[:cut], posts[cut:]))
    return out


def neutral_facts(author: Author) -> DraftFacts:
    """The same made-up facts for every author; only the champion is the author."""
    target = PersonRef("Morgan Reyes", "morgan.reyes@tidewater.example", "Tidewater Analytics", "Head of Data")
    return DraftFacts(
        champion=PersonRef(author.name, author.email, "Northwind Labs", "Research Lead"),
        target=target,
        vendor_name="Relaydesk",
        vendor_one_liner="release automation for research software teams",
        shared_history=("worked together at Harbor Institute, Apr 2019 - Jun 2021, 26 months",),
        csm=PersonRef("Dana Whitfield", "dana@relaydesk.example", "Relaydesk", "customer success manager"),
        suggestions=(
            Suggestion(target.name, target.email, target.company, target.title,
                       "worked together at Harbor Institute, Apr 2019 - Jun 2021"),
            Suggestion("Sam Okafor", "sam@kestrel.example", "Kestrel Bio", "Data Engineering Manager",
                       "connected on LinkedIn"),
            Suggestion("Lena Fischer", "lena@bluebird.example", "Bluebird Research", "VP Engineering",
                       "12 emails, last in Mar 2026"),
        ),
    )


# ---------------------------------------------------------------------------------------------------
# The authorship classifier (TF-IDF, nearest centroid)


def _char_ngrams(text: str) -> Counter[str]:
    s = " ".join(text.split())[:MAX_DOC_CHARS]
    grams: Counter[str] = Counter()
    for n in (2, 3, 4):
        grams.update(s[i : i + n] for i in range(len(s) - n + 1))
    return grams


_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _word_ngrams(text: str) -> Counter[str]:
    toks = _TOKEN.findall(text[:MAX_DOC_CHARS].lower())
    grams: Counter[str] = Counter(toks)
    grams.update(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))
    return grams


class _Tfidf:
    def __init__(self, analyzer: Any, min_df: int = 2) -> None:
        self.analyzer = analyzer
        self.min_df = min_df
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0)

    def fit_transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        counts = [self.analyzer(d) for d in docs]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        terms = sorted(t for t, k in df.items() if k >= self.min_df)
        self.vocab = {t: i for i, t in enumerate(terms)}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[t])) + 1 for t in terms])
        return self._matrix(counts)

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        return self._matrix([self.analyzer(d) for d in docs])

    def _matrix(self, counts: Sequence[Counter[str]]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for r, c in enumerate(counts):
            for term, k in c.items():
                j = self.vocab.get(term)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
                    vals.append((1 + math.log(k)) * self.idf[j])
        x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(counts), len(self.vocab)))
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        return sparse.diags(1 / np.maximum(norms, 1e-12)) @ x


class AuthorshipClassifier:
    """Character 2-4-gram + word 1-2-gram TF-IDF; each author is the centroid of their documents; a text is
    attributed to the author whose centroid is nearest by cosine."""

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> AuthorshipClassifier:
        self.chars = _Tfidf(_char_ngrams)
        self.words = _Tfidf(_word_ngrams)
        x = self._stack(self.chars.fit_transform(texts), self.words.fit_transform(texts))
        self.labels = sorted(set(labels))
        index = {a: i for i, a in enumerate(self.labels)}
        y = np.array([index[label] for label in labels])
        member = sparse.csr_matrix((np.ones(len(y)), (y, np.arange(len(y)))), shape=(len(self.labels), len(y)))
        centroids = np.asarray((member @ x).todense())
        self.centroids = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        return self

    @staticmethod
    def _stack(a: sparse.csr_matrix, b: sparse.csr_matrix) -> sparse.csr_matrix:
        return sparse.hstack([a, b]).tocsr() * (1 / math.sqrt(2))

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        x = self._stack(self.chars.transform(texts), self.words.transform(texts))
        return np.asarray(x @ self.centroids.T)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.scores(texts).argmax(axis=1)]

    def ranks(self, texts: Sequence[str], truth: Sequence[str]) -> list[int]:
        s = self.scores(texts)
        out = []
        for row, label in zip(s, truth, strict=True):
            j = self.labels.index(label)
            out.append(int((row > row[j]).sum()) + 1)
        return out


# ---------------------------------------------------------------------------------------------------
# Profiles and drafts


def build_profiles(authors: Sequence[Author], pool: Sequence[Author] | None = None) -> dict[str, VoiceProfile]:
    """Profiles from each author's older posts; recurring phrases against everyone else's older posts."""
    pool = list(pool or authors)
    per = {a.key: PhraseBackground.from_bodies([p.body for p in a.older]) for a in pool}
    total: Counter[str] = Counter()
    for bg in per.values():
        total.update(bg.doc_freq)
    everyone = PhraseBackground(total, sum(bg.n_docs for bg in per.values()))
    return {a.key: build_profile([p.body for p in a.older], background=everyone.minus(per[a.key])) for a in authors}


def _without_name(profile: VoiceProfile) -> VoiceProfile:
    template = profile.signoff_template.replace("{signoff_name}", "").strip()
    return replace(profile, signoff_template=template, signoff_name=None)


def drafts(authors: Sequence[Author], profiles: dict[str, VoiceProfile]) -> dict[str, list[str]]:
    """Per condition, one note body per author (in `authors` order)."""
    drafter = OfflineDrafter()
    out: dict[str, list[str]] = {"offline": [], "offline_without_name": [], "baseline": [], "named_baseline": []}
    for a in authors:
        facts = neutral_facts(a)
        profile = profiles[a.key]
        out["offline"].append(drafter.draft(facts, profile, []).body)
        out["offline_without_name"].append(compose_note(facts, _without_name(profile)).body)
        out["baseline"].append(compose_note(facts, VoiceProfile(), greeting_override="Hi,",
                                            signoff_override="Best,").body)
        out["named_baseline"].append(compose_note(facts, VoiceProfile(), greeting_override="Hi,",
                                                  signoff_override=f"Best,\n{facts.champion.first_name}").body)
    return out


# ---------------------------------------------------------------------------------------------------
# Style distance (evals.style_distance): no signature, no greeting, no topic words


def style_figures(authors: Sequence[Author], notes: dict[str, list[str]]) -> dict[str, Any]:
    """Per author, is the draft closer in style to its own author's held-out posts than to every other
    author's? Greeting and sign-off are stripped from posts and drafts alike; only function words, sentence
    shape, punctuation, casing and contractions count."""
    from evals.style_distance import StyleSpace, features, strip_frame

    reference = np.vstack([features([strip_frame(p.body) for p in a.newer]) for a in authors])
    space = StyleSpace(reference)
    out: dict[str, Any] = {}
    for condition, key in (("offline", "voice_style_top1"), ("baseline", "voice_style_baseline_top1")):
        drafts_x = np.vstack([features([strip_frame(body)]) for body in notes[condition]])
        ranks = space.ranks(drafts_x, reference)
        out[key] = round(float(np.mean([r == 1 for r in ranks])), 4)
        out[key.replace("top1", "mean_rank")] = round(float(np.mean(ranks)), 2)
        out[key.replace("top1", "closer_than_median")] = round(
            float(np.mean([r <= len(authors) / 2 for r in ranks])), 4)
    # the held-out posts themselves, one at a time: how far a single short text can be told apart at all
    singles = [(i, strip_frame(p.body)) for i, a in enumerate(authors) for p in a.newer[-3:]]
    if singles:
        x = np.vstack([features([t]) for _, t in singles])
        d = space.distances(x, reference)
        own = [int((row < row[i]).sum()) + 1 for (i, _), row in zip(singles, d, strict=True)]
        out["voice_style_real_post_top1"] = round(float(np.mean([r == 1 for r in own])), 4)
        out["voice_style_real_post_mean_rank"] = round(float(np.mean(own)), 2)
    return out


# ---------------------------------------------------------------------------------------------------
# Prompt tokens


def prompt_token_figures(authors: Sequence[Author], profiles: dict[str, VoiceProfile],
                         index_dir: Path | None = None) -> dict[str, Any]:
    """LLM note prompt tokens per draft (3 retrieved exemplars, budget 1,200) vs all of the author's emails."""
    from vectorstore.client import EmailIndex, make_chroma_client
    from warmintro.voice.index import exemplar_query, retrieve_exemplars
    from warmintro.voice.llm import MAX_PROMPT_TOKENS, build_note_prompt

    with tempfile.TemporaryDirectory(prefix="voice-eval-") as tmp:
        index = EmailIndex(make_chroma_client(index_dir or Path(tmp)), collection="voice_fidelity_eval")
        index.upsert({"id": f"{a.key}:{p.id}", "text": p.body,
                      "metadata": {"author": a.email, "subject": p.subject}} for a in authors for p in a.older)
        per_draft: list[int] = []
        everything: list[int] = []
        truncated = 0
        for a in authors:
            facts = neutral_facts(a)
            exemplars = retrieve_exemplars(index, a.email, exemplar_query(facts), k=3)
            built = build_note_prompt(facts, profiles[a.key], exemplars)
            per_draft.append(built.tokens)
            truncated += built.truncated
            all_emails = [Exemplar(p.id, p.body) for p in a.older]
            everything.append(build_note_prompt(facts, profiles[a.key], all_emails, max_tokens=10**9).tokens)
    return {
        "budget": MAX_PROMPT_TOKENS,
        "per_draft_mean": round(float(np.mean(per_draft)), 1),
        "per_draft_median": float(np.median(per_draft)),
        "per_draft_max": int(max(per_draft)),
        "drafts_with_exemplars_trimmed": truncated,
        "all_emails_mean": round(float(np.mean(everything)), 1),
        "all_emails_median": float(np.median(everything)),
        "all_emails_max": int(max(everything)),
        "reduction": round(float(np.mean(everything)) / max(1.0, float(np.mean(per_draft))), 1),
    }


# ---------------------------------------------------------------------------------------------------
# The eval


QUICK_MAX_POSTS = 60  # per author in the quick variant: all 56 authors (same chance), fewer posts each


def run(*, quick: bool = False, authors: int | None = None, max_posts: int | None = None,
        tokens: bool | None = None, data: Path = DATA) -> dict[str, Any]:
    """The eval as a function, for suites: {"voice_attribution_top1", "voice_attribution_chance",
    "voice_baseline_top1", "n_authors", ...}. `quick`: every author's latest 60 posts and no prompt-token
    figures (well under a minute on 2 cores); the full run uses every post and, unless `tokens=False`,
    embeds the older ones for the prompt-token figures (minutes). Missing data -> FileNotFoundError."""
    if not data.exists():
        raise FileNotFoundError(f"voice fidelity data not found: {data}")
    if quick and max_posts is None:
        max_posts = QUICK_MAX_POSTS
    if tokens is None:
        tokens = not quick
    result = evaluate(authors, data=data, tokens=tokens, max_posts=max_posts)
    result["quick"] = quick
    return result


def evaluate(authors: int | None = None, *, data: Path = DATA, tokens: bool = False,
             max_posts: int | None = None) -> dict[str, Any]:
    """Voice attribution figures (keys voice_attribution_top1, voice_attribution_chance, voice_baseline_top1,
    n_authors, and more); with `tokens=True` also the prompt-token figures (embeds every older post)."""
    started = time.perf_counter()
    chosen = load_authors(data, authors, max_posts)
    profiles = build_profiles(chosen)
    train_texts = [p.body for a in chosen for p in a.newer]
    train_labels = [a.key for a in chosen for p in a.newer]
    clf = AuthorshipClassifier().fit(train_texts, train_labels)
    truth = [a.key for a in chosen]
    notes = drafts(chosen, profiles)

    def top1(texts: list[str]) -> float:
        return float(np.mean([p == t for p, t in zip(clf.predict(texts), truth, strict=True)]))

    # Sanity row: the classifier on held-out posts themselves (how separable the authors are at all).
    registers = Counter(profiles[a.key].register for a in chosen)
    result: dict[str, Any] = {
        "n_authors": len(chosen),
        "voice_attribution_top1": round(top1(notes["offline"]), 4),
        "voice_attribution_chance": round(1 / len(chosen), 4),
        "voice_baseline_top1": round(top1(notes["baseline"]), 4),
        "voice_attribution_top1_without_name": round(top1(notes["offline_without_name"]), 4),
        "voice_named_baseline_top1": round(top1(notes["named_baseline"]), 4),
        "voice_attribution_mean_rank": round(float(np.mean(clf.ranks(notes["offline"], truth))), 2),
        "voice_baseline_mean_rank": round(float(np.mean(clf.ranks(notes["baseline"], truth))), 2),
        "voice_attribution_mean_rank_without_name": round(
            float(np.mean(clf.ranks(notes["offline_without_name"], truth))), 2),
        "voice_named_baseline_mean_rank": round(float(np.mean(clf.ranks(notes["named_baseline"], truth))), 2),
        "registers": dict(sorted(registers.items())),
        "posts": {"older": sum(len(a.older) for a in chosen), "newer": len(train_texts)},
    }
    result.update(style_figures(chosen, notes))
    if tokens:
        result["prompt_tokens"] = prompt_token_figures(chosen, profiles)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def examples(authors: Iterable[str], data: Path = DATA) -> dict[str, str]:
    """The offline note for a few named authors (for docs and eyeballing)."""
    wanted = set(authors)
    chosen = [a for a in load_authors(data) if a.key in wanted]
    pool = load_authors(data)
    profiles = build_profiles(chosen, pool)
    return {a.key: OfflineDrafter().draft(neutral_facts(a), profiles[a.key], []).body for a in chosen}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.voice_fidelity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--authors", type=int, default=None, help="use N authors (evenly spread); default all 56")
    parser.add_argument("--no-tokens", action="store_true", help="skip the prompt-token figures (no embedding)")
    parser.add_argument("--quick", action="store_true",
                        help=f"each author's latest {QUICK_MAX_POSTS} posts only, and no prompt-token figures")
    parser.add_argument("--max-posts", type=int, default=None, help="each author's latest N posts only")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"data not found: {args.data}", file=sys.stderr)
        return 2
    result = run(quick=args.quick, authors=args.authors, max_posts=args.max_posts,
                 tokens=not (args.no_tokens or args.quick), data=args.data)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    n = result["n_authors"]
    print(f"Voice fidelity on {n} real authors (R-package-devel), classifier trained on their newer posts")
    print(f"  offline composer, top-1          {result['voice_attribution_top1']:.1%}")
    print(f"  ... without the sign-off name    {result['voice_attribution_top1_without_name']:.1%}")
    print(f"  generic template ('Hi,'/'Best,') {result['voice_baseline_top1']:.1%}")
    print(f"  generic template + first name    {result['voice_named_baseline_top1']:.1%}")
    print(f"  chance                           {result['voice_attribution_chance']:.1%}")
    print(f"  mean rank of the true author     {result['voice_attribution_mean_rank']} (without the name "
          f"{result['voice_attribution_mean_rank_without_name']}, baseline {result['voice_baseline_mean_rank']}, "
          f"baseline + name {result['voice_named_baseline_mean_rank']}; chance {(n + 1) / 2:.1f})")
    print(f"Style distance (no greeting, sign-off or topic words): the draft is closest to its own author for "
          f"{result['voice_style_top1']:.1%} of authors (mean rank {result['voice_style_mean_rank']}); generic "
          f"template {result['voice_style_baseline_top1']:.1%} (mean rank {result['voice_style_baseline_mean_rank']}); "
          f"a real held-out post {result.get('voice_style_real_post_top1', 0):.1%}")
    if "prompt_tokens" in result:
        t = result["prompt_tokens"]
        print(f"LLM note prompt: {t['per_draft_mean']} tokens per draft (max {t['per_draft_max']}, budget "
              f"{t['budget']}) vs {t['all_emails_mean']} with all emails ({t['reduction']}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
