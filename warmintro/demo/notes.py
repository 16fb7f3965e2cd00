"""Free-text notes for demo signals, each template labelled with its true sentiment.

QBR notes are the interesting ones: plain positive and negative notes, mixed ones ("great people but
exports keep failing", labelled neutral), negated ones ("not great, onboarding dragged", negative) and
negated negatives ("no complaints at all", positive). Most QBR rows leave the sentiment column empty, so
the engine has to read these.
"""

from __future__ import annotations

import random

# The concrete problem Relaydesk solved for an account; quoted by promoters, QBRs and case studies.
STORIES: tuple[str, ...] = (
    "cut our month-end close from 5 days to 2",
    "took first-response time from 9 hours to 40 minutes",
    "retired three spreadsheets and a shared inbox",
    "got carrier exceptions to the right dispatcher in minutes instead of hours",
    "got onboarding for new reps down from a month to a week",
    "cut misrouted tickets by 70%",
    "gave us one queue for every customer request across four regions",
    "automated 80% of our order-change requests",
    "cleared a 1,200-ticket backlog in two weeks",
    "made our SLA reporting a one-click job instead of a Friday afternoon",
    "cut invoice disputes resolution time in half",
    "stopped renewals from slipping through the cracks",
    "gave support and finance one view of every escalation",
    "saved each ops lead about six hours a week",
    "took our CSAT from 78 to 91",
    "let us absorb 30% more volume without adding headcount",
)

NPS_PROMOTER: tuple[str, ...] = (
    "Relaydesk {story}. Easily the best tool we rolled out this year.",
    "Honestly it {story} — the routing rules alone paid for it.",
    "It {story}. Support is fast and actually knows the product.",
    "Relaydesk {story}. My team would riot if we took it away.",
    "In one quarter it {story}, and the team picked it up in a day.",
    "Game changer: it {story}.",
    "It {story}. Would recommend to any ops team drowning in email.",
)
NPS_PASSIVE: tuple[str, ...] = (
    "Solid product; reporting could be more flexible.",
    "Does the job. Would like a better Salesforce sync.",
    "Good overall, the mobile app needs work.",
    "Works well for routing, admin screens are clunky.",
    "Fine for us so far, still learning the automation side.",
    "",
)
NPS_DETRACTOR: tuple[str, ...] = (
    "Exports keep failing and support takes days to respond.",
    "Too many clicks to set up a simple routing rule.",
    "We lost two days of tickets in the sync outage.",
    "Price went up and we are using half of it.",
    "Onboarding was painful and we still run the old inbox in parallel.",
    "Reports are wrong every month-end; we double-check everything by hand.",
)

# (template, true sentiment)
QBR_POSITIVE: tuple[str, ...] = (
    "Great QBR. {buyer}: \"Relaydesk {story}.\" They want to roll it out to the finance team next quarter.",
    "Very positive review. Adoption at {pct}% of seats and the exec sponsor is thrilled with the routing dashboards.",
    "Excellent quarter, in their words \"Relaydesk {story}\". Team asked about the API for their warehouse system.",
    "Fantastic session — {buyer} called Relaydesk the best ops investment they made this year.",
    "Strong QBR. Escalations down {drop}%, and they want to present their setup at our user group.",
    "No complaints at all — never had a smoother rollout, per {buyer}.",
    "Couldn't be happier with the routing rules, they said; \"it {story}\".",
    "Really good meeting. They hit every goal we set in the success plan and want to add two more teams.",
)
QBR_NEGATIVE: tuple[str, ...] = (
    "Tough meeting. Adoption stalled at {low}% and they are questioning the renewal.",
    "Not great, onboarding dragged and the team still uses the old inbox.",
    "Not happy with response times; {buyer} asked for an escalation path to our VP.",
    "Frustrating QBR: the Salesforce sync broke twice this quarter and nobody trusts the reports.",
    "Not exactly thrilled with the rollout pace; they feel oversold.",
    "Poor quarter. Two champions left and the new manager wants to consolidate tools.",
)
QBR_MIXED: tuple[str, ...] = (
    "Great people but exports keep failing.",
    "Adoption is up, but the admin console is confusing and they want SSO fixes before expanding.",
    "Good progress on routing; reporting is still a pain point.",
    "Routine QBR, reviewed usage and the roadmap. No major issues raised.",
    "Mixed: support team loves it, finance team has not logged in since March.",
    "Usage flat quarter over quarter. They are fine with it, nothing new planned.",
)

GO_LIVE: tuple[str, ...] = (
    "Went live with {n} users across {teams} teams.",
    "Production go-live complete; all inbound requests now route through Relaydesk.",
    "Go-live done: {n} agents on the new queues, old shared inbox switched off.",
)
EXPANSION: tuple[str, ...] = (
    "Expanded from {a} to {b} seats; adding the {dept} team.",
    "Signed an expansion for the {dept} team (+{plus} seats).",
    "Upgraded to the Scale plan with workflow automation.",
)
RENEWAL: tuple[str, ...] = (
    "Renewed for {years} with a {uplift}% uplift.",
    "Renewal signed early, no discount requested.",
    "Renewed and added the analytics package.",
)
PUBLIC_WIN: tuple[str, ...] = (
    "Published case study with {company}: \"Relaydesk {story}\".",
    "{first} spoke about their Relaydesk rollout on the Ops Leaders podcast.",
    "Joint webinar with {company} on automating request routing; 300 registrants.",
)
MILESTONE: tuple[str, ...] = (
    "Crossed {k},000 automated workflows.",
    "One year of zero missed SLAs on the priority queue.",
    "{first} built their 50th routing rule.",
    "Hit 1,000 requests routed in a single day without a miss.",
)
OFFBOARDING: tuple[str, ...] = (
    "{first} is moving to a new role at {company}; loved the product and offered to stay in touch.",
    "{first} is leaving for a promotion elsewhere; thanked the team for a great two years.",
    "{first} is changing teams after the reorg, very happy with Relaydesk and wants to bring it along.",
)
ESCALATION: tuple[str, ...] = (
    "P1: exports failing for the finance team.",
    "SSO login loop for all agents in the EU region.",
    "Salesforce sync duplicating contacts.",
    "Routing rules not firing for the priority queue.",
    "Webhook deliveries delayed by several hours.",
)
CHURN_RISK: tuple[str, ...] = (
    "Exec sponsor left; the new VP is evaluating alternatives.",
    "Budget freeze announced; renewal under review.",
    "Usage down 40% quarter over quarter, champion unresponsive.",
    "Procurement asked for a competitive bid at renewal.",
)
NEGOTIATION: tuple[str, ...] = (
    "Renewal negotiation opened; procurement asking for a 15% discount.",
    "Contract redline in progress, legal reviewing the DPA.",
    "Multi-year renewal on the table; pricing under discussion.",
)
DOWNGRADE: tuple[str, ...] = (
    "Reduced seats from {b} to {a} after a reorg.",
    "Dropped the automation add-on at renewal.",
    "Moved from the Scale plan down to Team.",
)

TEAM_NAMES: tuple[str, ...] = ("support", "dispatch", "finance", "billing", "onboarding", "logistics", "sales ops", "returns")


def _years(n: int) -> str:
    return f"{n} year" if n == 1 else f"{n} years"


def fill(template: str, r: random.Random, *, story: str = "", buyer: str = "", first: str = "",
         company: str = "") -> str:
    a = r.choice((40, 60, 80, 120, 150, 200))
    return template.format(
        story=story, buyer=buyer or "the sponsor",
        first=first or "The champion", company=company, pct=r.randint(82, 97), drop=r.randint(25, 60),
        low=r.randint(18, 40), n=r.randint(25, 400), teams=r.randint(2, 6), a=a, b=a + r.choice((20, 40, 60, 100)),
        plus=r.choice((15, 25, 40, 60)), dept=r.choice(TEAM_NAMES), years=_years(r.choice((1, 2, 3))),
        uplift=r.choice((3, 5, 7, 8, 10)), k=r.randint(5, 40),
    )


def qbr_note(r: random.Random, sentiment: str, *, story: str, buyer: str) -> str:
    pool = {"positive": QBR_POSITIVE, "negative": QBR_NEGATIVE, "neutral": QBR_MIXED}[sentiment]
    return fill(r.choice(pool), r, story=story, buyer=buyer)


def nps_note(r: random.Random, score: int, *, story: str) -> str:
    if score >= 9:
        return fill(r.choice(NPS_PROMOTER), r, story=story)
    if score >= 7:
        return r.choice(NPS_PASSIVE)
    return r.choice(NPS_DETRACTOR)


def nps_sentiment(score: int) -> str:
    return "positive" if score >= 9 else "neutral" if score >= 7 else "negative"
