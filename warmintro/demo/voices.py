"""Champion voices for the demo's past emails.

Four clearly distinct styles; each champion draws a stable set of greetings, sign-offs and recurring
phrases from their style, and every email they write uses only that set:

- casual: "hey Sam —", all lowercase, contractions, "cheers"/"thx", an emoji now and then
- formal: "Dear Ms. Patel,", full sentences, "Kind regards," and a signature block
- enthusiastic: "Hi team!", exclamation marks, "Best,"
- terse: "Sam,", one or two lines, "- J"
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

STYLES: tuple[str, ...] = ("casual", "formal", "enthusiastic", "terse")

GREETINGS: dict[str, tuple[str, ...]] = {
    "casual": ("hey {first} —", "hey {first},", "hi {first}!", "yo {first}"),
    "formal": ("Dear {formal},", "Dear {first} {last},", "Good morning {first},"),
    "enthusiastic": ("Hi {first}!", "Hi team!", "Hello {first}!", "Hey {first}!!"),
    "terse": ("{first},", "{first} -"),
}
SIGNOFFS: dict[str, tuple[str, ...]] = {
    "casual": ("cheers", "thx", "talk soon", "ttyl"),
    "formal": ("Kind regards,", "Best regards,", "With kind regards,", "Sincerely,"),
    "enthusiastic": ("Best,", "Thanks so much!", "Cheers!", "Have a great one!"),
    "terse": ("- {initial}", "{initial}", "Thx, {initial}"),
}
PHRASES: dict[str, tuple[str, ...]] = {
    "casual": ("quick one", "lmk what you think", "no rush", "fwiw", "super helpful", "tbh", "sounds good to me",
               "happy to jump on a call"),
    "formal": ("I hope this message finds you well.", "Please do not hesitate to contact me should you have any questions.",
               "I would be grateful for your thoughts.", "Thank you in advance for your time.",
               "I trust this is helpful."),
    "enthusiastic": ("This is huge!", "I'm so excited about this!", "Love this!", "Can't wait to see it!",
                     "Amazing work, everyone!", "So proud of this team!"),
    "terse": ("Go ahead.", "Send me the numbers.", "Let's discuss Thursday.", "Loop in finance.", "Keep it short.",
              "Decision by Friday."),
}
EMOJI: tuple[str, ...] = ("🙌", "👍", "😅", "🚀", "🙏", "🎉")

THINGS: tuple[str, ...] = (
    "carrier scorecard", "Q3 headcount plan", "SLA report", "month-end close checklist", "routing rules doc",
    "renewal forecast", "EMEA queue numbers", "onboarding checklist", "vendor review deck", "escalations summary",
    "capacity model", "weekly ops review",
)
PROJECTS: tuple[str, ...] = (
    "new routing rules", "EMEA queue migration", "Salesforce sync", "returns workflow", "priority queue",
    "self-serve portal", "SLA dashboard", "invoice dispute workflow",
)
DAYS: tuple[str, ...] = ("Thursday", "Friday", "Monday", "end of day", "next week", "tomorrow's standup")


@dataclass
class Voice:
    style: str
    greetings: list[str]
    signoffs: list[str]
    phrases: list[str]
    emoji: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def truth(self) -> dict[str, object]:
        return {"style": self.style, "greetings": list(self.greetings), "signoffs": list(self.signoffs),
                "phrases": list(self.phrases), "lowercase": self.style == "casual"}


def make_voice(r: random.Random, style: str) -> Voice:
    greetings = r.sample(GREETINGS[style], 2 if len(GREETINGS[style]) > 2 and r.random() < 0.6 else 1)
    signoffs = r.sample(SIGNOFFS[style], 2 if r.random() < 0.5 else 1)
    phrases = r.sample(PHRASES[style], r.choice((2, 3)))
    emoji = r.choice(EMOJI) if style == "casual" else None
    return Voice(style, greetings, signoffs, phrases, emoji)


@dataclass
class Person:
    """Who an email is from or to; only what a greeting or signature needs."""

    email: str
    first: str
    last: str
    gender: str = "N"
    title: str = ""
    company: str = ""

    @property
    def formal(self) -> str:
        hon = {"F": "Ms.", "M": "Mr."}.get(self.gender)
        return f"{hon} {self.last}" if hon else f"{self.first} {self.last}"


SENTENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "request": {
        "casual": ("can you send me the {thing} before {day}?", "want to sanity check the numbers first.",
                   "i'll turn it around quickly, promise."),
        "formal": ("Could you please share the latest {thing} before {day}?",
                   "I would like to review the figures ahead of our meeting.",
                   "If any sections are still in draft, I am happy to look at those later."),
        "enthusiastic": ("Could you send over the {thing} before {day}?",
                         "I want to get the numbers into the deck — it's looking great!"),
        "terse": ("Need the {thing} by {day}.",),
    },
    "update": {
        "casual": ("the {project} went live this morning and nothing's on fire.",
                   "we'll keep an eye on the queues today but looks good so far."),
        "formal": ("I am pleased to confirm that the {project} went live this morning.",
                   "We will monitor the queues closely over the coming days and report back on Friday."),
        "enthusiastic": ("The {project} went live this morning!",
                         "Huge thanks to everyone who pitched in — first numbers look fantastic!"),
        "terse": ("{Project} is live.", "Watch the queues today."),
    },
    "vendor": {
        "casual": ("fwiw {vendor} {story} — can't imagine going back.",
                   "happy to show you our setup if it'd help your team."),
        "formal": ("Since we adopted {vendor}, it {story}.",
                   "I would be glad to walk you through our configuration should that be of interest."),
        "enthusiastic": ("Since we switched to {vendor} it {story}!",
                         "Seriously, you have to see the routing dashboards!"),
        "terse": ("{vendor} {story}.", "Worth a look."),
    },
    "schedule": {
        "casual": ("can we push our 1:1 to {day}? something came up.", "sorry for the shuffle!"),
        "formal": ("Would it be possible to move our meeting to {day}?",
                   "I apologise for the short notice and appreciate your flexibility."),
        "enthusiastic": ("Could we move our sync to {day}? I have great news to share!",),
        "terse": ("Move our 1:1 to {day}.",),
    },
    "intro": {
        "casual": ("you two should talk — {other} runs ops at {other_company} and is fighting the same inbox mess we had.",
                   "{vendor} {story}, so i figured a quick chat couldn't hurt."),
        "formal": ("I would like to introduce you to {other}, who leads operations at {other_company}.",
                   "Since we adopted {vendor}, it {story}, and I believe a conversation would be worthwhile for you both."),
        "enthusiastic": ("I'd love for you to meet {other} from {other_company}!",
                         "{vendor} {story} for us and I think you two will hit it off!"),
        "terse": ("Meet {other} ({other_company}).", "{vendor} {story}. Worth 20 minutes."),
    },
    "thanks": {
        "casual": ("thanks for jumping on the {thing} yesterday, super helpful.", "owe you a coffee."),
        "formal": ("Thank you for your help with the {thing} yesterday.",
                   "Your attention to detail made a real difference to the outcome."),
        "enthusiastic": ("THANK YOU for jumping on the {thing} yesterday!", "You're a rockstar!"),
        "terse": ("Thanks for the {thing}.",),
    },
    "hiring": {
        "casual": ("we're hiring another ops lead, know anyone good?", "remote is fine."),
        "formal": ("We are recruiting an additional operations lead this quarter.",
                   "I would appreciate any recommendations from your network."),
        "enthusiastic": ("We're growing the ops team again!", "If you know anyone great, send them my way!"),
        "terse": ("Hiring an ops lead. Names?",),
    },
}


def _sentences(r: random.Random, style: str, intent: str, ctx: dict[str, str]) -> list[str]:
    """The sentences of one email; `ctx` has vendor, story, thing, project, day, other, other_company."""
    values = {**ctx, "Project": ctx["project"][:1].upper() + ctx["project"][1:]}
    return [t.format(**values) for t in SENTENCES[intent][style]]


SUBJECTS: dict[str, tuple[str, ...]] = {
    "request": ("{thing}", "Quick request: {thing}", "{thing} before {day}"),
    "update": ("{project} is live", "Update on the {project}", "{project}: go-live"),
    "vendor": ("How we fixed our queues", "Our {vendor} setup", "Re: tooling question"),
    "schedule": ("Moving our 1:1", "Reschedule", "Sync on {day}?"),
    "intro": ("Intro: {other_first} <> {to_first}", "Introduction — {other_company}", "You two should talk"),
    "thanks": ("Thank you", "Re: {thing}", "Thanks!"),
    "hiring": ("Hiring an ops lead", "Know anyone?", "Ops lead role"),
}
INTENTS: tuple[str, ...] = ("request", "update", "vendor", "schedule", "intro", "thanks", "hiring")
INTENT_WEIGHTS: tuple[float, ...] = (0.22, 0.18, 0.14, 0.14, 0.1, 0.12, 0.1)


def compose(r: random.Random, voice: Voice, sender: Person, to: Person, ctx: dict[str, str],
            intent: str | None = None) -> tuple[str, str]:
    """(subject, body) of one email from `sender` in `voice`. ctx: vendor, story, and for intros other/other_company."""
    style = voice.style
    if intent is None:
        intent = r.choices(INTENTS, INTENT_WEIGHTS)[0]
        if intent == "intro" and not ctx.get("other"):
            intent = "update"
    ctx = {"other": "", "other_company": "", **ctx, "thing": r.choice(THINGS), "project": r.choice(PROJECTS),
           "day": r.choice(DAYS)}
    sentences = _sentences(r, style, intent, ctx)
    if style == "terse" or len(sentences) > 2 and r.random() < 0.4:
        sentences = sentences[:2]
    phrase = r.choice(voice.phrases)
    if style == "formal":
        if phrase.endswith("."):
            sentences = [phrase, *sentences] if phrase.startswith(("I hope", "I trust")) else [*sentences, phrase]
    elif style == "casual":
        sentences = [f"{phrase}:", *sentences] if phrase == "quick one" else [*sentences, phrase]
    else:
        sentences.append(phrase)
    greeting = r.choice(voice.greetings).format(first=to.first, last=to.last, formal=to.formal)
    signoff = r.choice(voice.signoffs).format(initial=sender.first[:1])
    if style == "casual":
        body_text = " ".join(sentences).lower()
        if voice.emoji and r.random() < 0.35:
            body_text += f" {voice.emoji}"
        body = f"{greeting}\n\n{body_text}\n\n{signoff}\n{sender.first.lower()}"
    elif style == "formal":
        para = " ".join(sentences)
        sig = f"{sender.first} {sender.last}"
        if sender.title:
            sig += f"\n{sender.title}, {sender.company}" if sender.company else f"\n{sender.title}"
        body = f"{greeting}\n\n{para}\n\n{signoff}\n{sig}"
    elif style == "enthusiastic":
        para = " ".join(s if s.endswith(("!", "?")) else s.rstrip(".") + "!" for s in sentences)
        body = f"{greeting}\n\n{para}\n\n{signoff}\n{sender.first}"
    else:
        body = f"{greeting}\n\n{' '.join(sentences)}\n\n{signoff}"
    fmt = {"thing": ctx["thing"], "project": ctx["project"], "day": ctx["day"], "vendor": ctx["vendor"],
           "other_first": ctx.get("other", "").split(" ")[0], "to_first": to.first,
           "other_company": ctx.get("other_company", "")}
    subject = r.choice(SUBJECTS[intent]).format(**fmt)
    subject = subject[:1].upper() + subject[1:]
    if r.random() < 0.25:
        subject = "Re: " + subject
    if style == "casual":
        subject = subject.lower()
    return subject, body
