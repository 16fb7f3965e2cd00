"""The program report (product.md engine 9): referral rate, the ask -> approve -> intro -> meeting ->
opportunity -> won funnel, referral share of pipeline and won revenue, time to first referral, conversion
by trigger type, persona and source, first-touch SLA compliance, a monthly trend, and the fraud flags.

`build_report()` takes plain rows (so any lead -> deal data set can be fed through it, e.g. a CRM export
with one row per lead); `program_report(session, as_of)` loads them from the store, with the attribution
engine deciding which opportunities referrals sourced. `render_png()` draws the four panels (funnel, by
trigger, by persona, trend) with matplotlib's Agg backend, imported only when called.

The store-backed report also carries `economics` (issue 13, warmintro.engines.economics): per program
(customer, partner, employee) referrals, conversion, pipeline, won revenue, payouts and referral CAC beside
the paid and organic CAC of program.toml `[economics]`, and the 12-month retention and expansion of referred
customers against the rest; the PNG then gets two more panels (CAC, retention).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from warmintro.engines.timeutil import human_day, iso, utc

# The referral funnel; each referral counts at every stage up to the furthest one it reached.
FUNNEL = ("asked", "approved", "intro_sent", "meeting", "opportunity", "won")
RANK = {s: i for i, s in enumerate(FUNNEL)}
UNSPECIFIED = "unspecified"
DEFAULT_CURRENCY = "USD"
STAGE_LABEL = {"asked": "asked", "approved": "referred (intro approved)", "intro_sent": "intro sent",
               "meeting": "meeting held", "opportunity": "opportunity", "won": "won"}


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    customer_since: datetime | None = None
    churned: bool = False


@dataclass(frozen=True)
class AskRow:
    asked_at: datetime
    contact_email: str = ""
    trigger_type: str | None = None
    persona: str | None = None


@dataclass(frozen=True)
class ReferralRow:
    referral_id: str
    created_at: datetime
    reached: str  # the furthest funnel stage reached (one of FUNNEL)
    referrer_account_id: str | None = None
    trigger_type: str | None = None
    persona: str | None = None
    program: str = "customer"
    sla_due_at: datetime | None = None
    first_touch_at: datetime | None = None


@dataclass(frozen=True)
class OpportunityRow:
    opportunity_id: str
    created_at: datetime
    stage: str  # prospecting ... won, lost; "won" counts as won revenue when closed by as_of
    amount: float | None = None
    closed_at: datetime | None = None
    source: str | None = None
    # The attribution credit when known; without one, a source starting with "referral" marks a referral deal.
    credit: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_referral(self) -> bool:
        if self.credit is not None:
            return self.credit == "sourced"
        return (self.source or "").strip().lower().startswith("referral")


def _ratio(num: float, den: float) -> float | None:
    return None if not den else round(num / den, 4)


def _won_by(o: OpportunityRow, as_of: datetime) -> bool:
    return o.stage == "won" and (o.closed_at is None or utc(o.closed_at) <= as_of)


def _group(rows: Iterable[ReferralRow], asks: Sequence[AskRow], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"asks": 0, "referrals": 0, "meetings": 0,
                                                             "opportunities": 0, "won": 0})
    for a in asks:
        groups[getattr(a, key) or UNSPECIFIED]["asks"] += 1
    for r in rows:
        g = groups[getattr(r, key) or UNSPECIFIED]
        g["referrals"] += 1
        rank = RANK[r.reached]
        g["meetings"] += rank >= RANK["meeting"]
        g["opportunities"] += rank >= RANK["opportunity"]
        g["won"] += rank >= RANK["won"]
    out = {}
    for name, g in sorted(groups.items(), key=lambda kv: (-kv[1]["referrals"], -kv[1]["asks"], kv[0])):
        g["conversion"] = _ratio(g["won"], g["referrals"])
        g["ask_to_referral"] = _ratio(g["referrals"], g["asks"])
        out[name] = g
    return out


def build_report(*, as_of: datetime, accounts: Sequence[AccountRow] = (), asks: Sequence[AskRow] = (),
                 referrals: Sequence[ReferralRow] = (), opportunities: Sequence[OpportunityRow] = (),
                 flags: Sequence[dict[str, Any]] = (), vendor: str | None = None,
                 currency: str = DEFAULT_CURRENCY) -> dict[str, Any]:
    as_of = utc(as_of)
    asks = [a for a in asks if utc(a.asked_at) <= as_of]
    refs = [r for r in referrals if utc(r.created_at) <= as_of]
    opps = [o for o in opportunities if utc(o.created_at) <= as_of]
    # the period the figures cover: from the first ask, referral or opportunity on record to as_of
    starts = [utc(a.asked_at) for a in asks] + [utc(r.created_at) for r in refs] + [utc(o.created_at) for o in opps]
    since = min(starts) if starts else as_of

    # referral rate: customer accounts (not churned) with at least one referral by one of their contacts
    customers = {a.account_id for a in accounts if not a.churned}
    referring = {r.referrer_account_id for r in refs if r.referrer_account_id in customers}

    # funnel: who was asked, then each referral at every stage up to the furthest it reached; referral
    # opportunities the ledger never saw (tagged in the CRM) count at the opportunity and won stages too.
    # Customers are asked (the asks ledger; a referral logged without a recorded ask still had one); a partner's
    # or an employee's referral is its own ask (a submission), so "asked" counts those too.
    customer_refs = sum(r.program == "customer" for r in refs)
    counts = {s: sum(RANK[r.reached] >= RANK[s] for r in refs) for s in FUNNEL}
    counts["asked"] = max(len(asks), customer_refs) + len(refs) - customer_refs
    ref_opps = [o for o in opps if o.is_referral]
    counts["opportunity"] = max(counts["opportunity"], len(ref_opps))
    counts["won"] = max(counts["won"], sum(_won_by(o, as_of) for o in ref_opps))
    by_program: dict[str, dict[str, int]] = {}
    for prog in sorted({r.program for r in refs}):
        mine = [r for r in refs if r.program == prog]
        by_program[prog] = {s: sum(RANK[r.reached] >= RANK[s] for r in mine) for s in FUNNEL}
        by_program[prog]["asked"] = max(len(asks), len(mine)) if prog == "customer" else len(mine)
    funnel, prev = [], None
    for s in FUNNEL:
        funnel.append({"stage": s, "count": counts[s], "conversion": None if prev is None else _ratio(counts[s], prev),
                       "label": STAGE_LABEL[s], "by_program": {p: c[s] for p, c in by_program.items()}})
        prev = counts[s]
    funnel[0]["asks"] = max(len(asks), customer_refs)
    funnel[0]["submissions"] = len(refs) - customer_refs

    def money(rows: Iterable[OpportunityRow]) -> float:
        return round(sum(o.amount or 0.0 for o in rows), 2)

    won = [o for o in opps if _won_by(o, as_of)]
    pipeline: dict[str, Any] = {"total": money(opps), "referral": money(ref_opps), "count_total": len(opps),
                "count_referral": len(ref_opps)}
    pipeline["share"] = _ratio(pipeline["referral"], pipeline["total"])
    pipeline["count_share"] = _ratio(len(ref_opps), len(opps))
    won_ref = [o for o in won if o.is_referral]
    won_revenue: dict[str, Any] = {"total": money(won), "referral": money(won_ref), "count_total": len(won), "count_referral": len(won_ref)}
    won_revenue["share"] = _ratio(won_revenue["referral"], won_revenue["total"])
    won_revenue["count_share"] = _ratio(len(won_ref), len(won))

    # time to first referral: customer_since -> the account's first referral
    first: dict[str, datetime] = {}
    for r in refs:
        if r.referrer_account_id:
            first[r.referrer_account_id] = min(first.get(r.referrer_account_id, utc(r.created_at)), utc(r.created_at))
    days = [max(0.0, (first[a.account_id] - utc(a.customer_since)).total_seconds() / 86400)
            for a in accounts if a.account_id in referring and a.customer_since is not None]  # as the rate counts
    ttf = {"accounts": len(days), "median_days": round(statistics.median(days), 1) if days else None,
           "mean_days": round(statistics.fmean(days), 1) if days else None}

    # first-touch SLA: met (touched by the due time), breached (touched late, or untouched and overdue), pending
    met = breached = pending = 0
    for r in refs:
        if r.sla_due_at is None:
            continue
        due = utc(r.sla_due_at)
        touched = utc(r.first_touch_at) if r.first_touch_at is not None and utc(r.first_touch_at) <= as_of else None
        if touched is not None:
            met, breached = met + (touched <= due), breached + (touched > due)
        elif due < as_of:
            breached += 1
        else:
            pending += 1
    sla = {"met": met, "breached": breached, "pending": pending, "compliance": _ratio(met, met + breached)}

    by_source: dict[str, dict[str, Any]] = defaultdict(lambda: {"opportunities": 0, "won": 0, "pipeline": 0.0,
                                                                "won_revenue": 0.0})
    for o in opps:
        g = by_source[(o.source or "").strip() or UNSPECIFIED]
        g["opportunities"] += 1
        g["pipeline"] += o.amount or 0.0
        if _won_by(o, as_of):
            g["won"] += 1
            g["won_revenue"] += o.amount or 0.0
    sources = {}
    for name, g in sorted(by_source.items(), key=lambda kv: (-kv[1]["opportunities"], kv[0])):
        g["conversion"] = _ratio(g["won"], g["opportunities"])
        g["pipeline"], g["won_revenue"] = round(g["pipeline"], 2), round(g["won_revenue"], 2)
        sources[name] = g

    trend: dict[str, dict[str, int]] = defaultdict(lambda: {"asks": 0, "referrals": 0, "opportunities": 0,
                                                            "referral_opportunities": 0, "won": 0, "referral_won": 0})
    for a in asks:
        trend[utc(a.asked_at).strftime("%Y-%m")]["asks"] += 1
    for r in refs:
        trend[utc(r.created_at).strftime("%Y-%m")]["referrals"] += 1
    for o in opps:
        t = trend[utc(o.created_at).strftime("%Y-%m")]
        t["opportunities"] += 1
        t["referral_opportunities"] += o.is_referral
    for o in won:
        t = trend[utc(o.closed_at or o.created_at).strftime("%Y-%m")]
        t["won"] += 1
        t["referral_won"] += o.is_referral

    title = f"Referral program{' · ' + vendor if vendor else ''} · {human_day(since)} – {human_day(as_of)}"
    return {
        "as_of": iso(as_of),
        "title": title,
        "period": {"from": iso(since), "to": iso(as_of)},
        "currency": currency,
        "referral_rate": {"customer_accounts": len(customers), "referring_accounts": len(referring),
                          "rate": _ratio(len(referring), len(customers))},
        "funnel": funnel,
        "pipeline": pipeline,
        "won_revenue": won_revenue,
        "time_to_first_referral": ttf,
        "by_trigger": _group(refs, asks, "trigger_type") if refs or asks else {},
        "by_persona": _group(refs, asks, "persona") if refs or asks else {},
        "by_source": sources,
        "sla": sla,
        "trend": [{"month": k, **v} for k, v in sorted(trend.items())],
        "flags": list(flags),
    }


# --- the store -------------------------------------------------------------------------------------------

def program_report(session: Any, as_of: datetime) -> dict[str, Any]:
    """The report over the store as of a moment (attribution decides which opportunities referrals sourced)."""
    from sqlalchemy import select

    from warmintro.engines.attribution import attribution
    from warmintro.engines.ledger import referral_flags
    from warmintro.program import load_program
    from warmintro.store import models as m

    as_of = utc(as_of)
    credits = {c.opportunity_id: c for c in attribution(session, as_of)}
    accounts = [AccountRow(a.account_id, utc(a.customer_since) if a.customer_since else None,
                           a.lifecycle_stage == "churned") for a in session.scalars(select(m.Account))]
    contact_account = {e: a for e, a in session.execute(select(m.Contact.email, m.Contact.account_id))}
    signal_type = {sid: t for sid, t in session.execute(select(m.Signal.signal_id, m.Signal.type))}
    asks = [AskRow(utc(a.asked_at), a.contact_email, signal_type.get(a.trigger_signal_id or ""), a.persona)
            for a in session.scalars(select(m.Ask))]
    reached: dict[str, int] = defaultdict(int)
    for rid, status in session.execute(select(m.ReferralEvent.referral_id, m.ReferralEvent.status)):
        reached[rid] = max(reached[rid], RANK.get(status, 0))
    for c in credits.values():  # an attributed opportunity moves its referral to opportunity / won
        if c.referral_id and c.credit in ("sourced", "influenced"):
            stage = RANK["won"] if c.stage == "won" else RANK["opportunity"]
            reached[c.referral_id] = max(reached[c.referral_id], stage)
    refs = []
    for r in session.scalars(select(m.Referral)):
        rank = max(reached[r.referral_id], RANK.get(r.status, 0))
        refs.append(ReferralRow(r.referral_id, utc(r.created_at), FUNNEL[rank], contact_account.get(r.referrer_email),
                                r.trigger_type, r.persona, r.program, r.sla_due_at, r.first_touch_at))
    opps = []
    for o in session.scalars(select(m.Opportunity)):
        credit = credits.get(o.opportunity_id)
        opps.append(OpportunityRow(o.opportunity_id, utc(o.created_at), o.stage, o.amount,
                                   utc(o.closed_at) if o.closed_at else None, o.source,
                                   credit.credit if credit else None))
    flags = [f.to_json() for fs in referral_flags(session, as_of).values() for f in fs]
    vendor = load_program(session).vendor
    report = build_report(as_of=as_of, accounts=accounts, asks=asks, referrals=refs, opportunities=opps, flags=flags,
                          vendor=vendor.name, currency=vendor.currency)
    report["attribution"] = {k: sum(c.credit == k for c in credits.values()) for k in ("sourced", "influenced", "none")}
    from warmintro.engines.economics import store_economics

    report["economics"] = store_economics(session, as_of, list(credits.values()))
    from warmintro.feedback import feedback_summary

    report["agent_feedback"] = feedback_summary(session, as_of)  # thumbs on the assistant's answers in Slack
    return report


# --- the chart -----------------------------------------------------------------------------------------

def _bars(ax: Any, groups: dict[str, dict[str, Any]], title: str, count_key: str) -> None:
    items = [(n.replace("_", " "), g) for n, g in groups.items() if g[count_key]][:10]
    if not items:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="#888888")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    names = [n for n, _ in items][::-1]
    conv = [(g["conversion"] or 0.0) * 100 for _, g in items][::-1]
    ax.barh(names, conv, color="#4c78a8")
    for y, (_, g) in enumerate(items[::-1]):
        ax.text((g["conversion"] or 0.0) * 100, y, f" {g['won']}/{g[count_key]}", va="center", fontsize=8)
    ax.set_xlabel(f"won of {count_key} (%); labels: won/{count_key}")
    ax.set_title(title)
    ax.set_xlim(0, max(conv + [1.0]) * 1.3)


def render_png(report: dict[str, Any], path: Path, *, dpi: int = 110) -> Path:
    """Write the report's four panels (funnel, by trigger, by persona, trend) to `path` as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    economics = report.get("economics")
    fig = Figure(figsize=(11, 8), dpi=dpi)  # the same canvas; with economics, a third column of panels
    axes = fig.subplots(2, 3 if economics else 2)
    (ax_f, ax_t), (ax_p, ax_tr) = axes[0][:2], axes[1][:2]
    cur = report.get("currency", DEFAULT_CURRENCY)
    if economics:
        _economics_panels(axes[0][2], axes[1][2], economics, cur)
    fig.suptitle(report.get("title") or f"Referral program as of {report['as_of']}", fontsize=13)
    pipe, won = report["pipeline"], report["won_revenue"]
    fig.text(0.5, 0.935, f"Referrals: {_short(pipe['referral'], cur)} of {_short(pipe['total'], cur)} pipeline "
                         f"({_share(pipe['share'])}), {_short(won['referral'], cur)} of {_short(won['total'], cur)} "
                         f"won revenue ({_share(won['share'])}); first-touch SLA met {_share(report['sla']['compliance'])}",
             ha="center", fontsize=9, color="#444444")

    stages = [s.get("label", s["stage"]) for s in report["funnel"]][::-1]
    values = [s["count"] for s in report["funnel"]][::-1]
    ax_f.barh(stages, values, color="#f58518")
    for y, s in enumerate(report["funnel"][::-1]):
        label = f" {s['count']}" + ("" if s["conversion"] is None else f"  ({s['conversion'] * 100:.0f}%)")
        ax_f.text(s["count"], y, label, va="center", fontsize=8)
    ax_f.set_xlim(0, max(values + [1]) * 1.35)
    ax_f.set_title("Funnel (share of the previous stage)")

    if any(g["referrals"] for g in report["by_trigger"].values()):
        _bars(ax_t, report["by_trigger"], "Conversion by trigger", "referrals")
    else:  # no ledger referrals (e.g. a CRM lead export): show conversion by lead source instead
        _bars(ax_t, report["by_source"], "Conversion by source", "opportunities")
    _bars(ax_p, report["by_persona"], "Conversion by referrer persona", "referrals")

    # complete months only: the month of as_of has just begun, and its near-zero counts read as a collapse
    current = report["as_of"][:7]
    trend = [t for t in report["trend"] if t["month"] < current]
    months = [t["month"] for t in trend]
    if months:
        xs = range(len(months))
        for key, label, color in (("referrals", "referrals", "#4c78a8"),
                                  ("referral_opportunities", "referral opportunities", "#f58518"),
                                  ("referral_won", "referral won", "#54a24b"),
                                  ("opportunities", "all opportunities", "#9d9d9d"), ("won", "all won", "#b8d8a8")):
            ys = [t[key] for t in trend]
            if any(ys):
                ax_tr.plot(xs, ys, marker="o", markersize=2, label=label, color=color)
        step = max(1, len(months) // 5)
        ax_tr.set_xticks(list(xs)[::step], months[::step], rotation=45, fontsize=7, ha="right")
        ax_tr.legend(fontsize=7)
    ax_tr.set_title("Per month (complete months)")
    fig.tight_layout(rect=(0, 0.03 if economics else 0, 1, 0.93))
    if economics:
        fig.text(0.01, 0.005, economics.get("reference", ""), fontsize=6, color="#666666", wrap=True)
    fig.savefig(path, format="png")
    return path


def _short(value: float | None, cur: str) -> str:
    """An amount for a chart label: USD 14.6M, USD 250k, USD 900."""
    if value is None:
        return "—"
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{cur} {value / div:.1f}{unit}".replace(".0" + unit, unit)
    return f"{cur} {value:,.0f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _economics_panels(ax_cac: Any, ax_ret: Any, economics: dict[str, Any], cur: str = DEFAULT_CURRENCY) -> None:
    """CAC per program beside paid and organic CAC; 12-month retention of referred customers vs the rest."""
    names, values, colors = [], [], []
    for prog, row in economics["programs"].items():
        if row["cac"] is not None:
            names.append(f"{prog} referral")
            values.append(row["cac"])
            colors.append("#54a24b")
    for key, label in (("paid", "paid"), ("organic", "organic")):
        value = economics["cac"].get(key)
        if value is not None:
            names.append(label)
            values.append(value)
            colors.append("#9d9d9d")
    if names:
        ax_cac.barh(names[::-1], values[::-1], color=colors[::-1])
        for y, v in enumerate(values[::-1]):
            ax_cac.text(v, y, f" {_short(v, cur)}", va="center", fontsize=8)
        ax_cac.set_xlabel(f"{cur} per won customer")
        ax_cac.xaxis.set_major_formatter(lambda x, _pos: _short(x, "").strip())
        ax_cac.locator_params(axis="x", nbins=4)
        ax_cac.set_xlim(0, max(values) * 1.7 or 1)
    else:
        ax_cac.text(0.5, 0.5, "no won referral customers yet", ha="center", va="center",
                    transform=ax_cac.transAxes, color="#888888")
    ax_cac.set_title("CAC per won customer")
    ret = economics["retention"]
    group_names = {"referred": "referred", "rest": "not referred", "customer": "by customer",
             "partner": "by partner", "employee": "by employee"}
    groups = [(k, ret[k]) for k in ("referred", "rest", "customer", "partner", "employee") if ret[k]["accounts"]]
    if groups:
        labels = [f"{group_names[k]}\n{g['retained']} of {g['accounts']}" for k, g in groups][::-1]
        vals = [(g["retention"] or 0.0) * 100 for _, g in groups][::-1]
        ax_ret.barh(labels, vals, color="#4c78a8")
        for y, (_, g) in enumerate(groups[::-1]):
            nrr = "" if g["avg_nrr"] is None else f"\nNRR {g['avg_nrr']:.0f}%"
            # Offset in points, not a leading space: a space pads only the first of the two lines.
            ax_ret.annotate(f"{(g['retention'] or 0) * 100:.0f}%{nrr}", xy=((g["retention"] or 0.0) * 100, y),
                            xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax_ret.set_xlim(0, 160)
    else:
        ax_ret.text(0.5, 0.5, "no 12-month cohort yet", ha="center", va="center", transform=ax_ret.transAxes,
                    color="#888888")
    ax_ret.set_xlabel("% still customers")
    ax_ret.set_title(f"{round(ret['days'] / 30.4)}-month retention")
