"""The partner portal (issue 13): one phone-sized page per partner, opened from a signed, expiring link.

- `GET /p/{token}`: the partner's personal tracking link, a three-field submission form (name, email,
  company), their submissions with the stage each reached, and their commissions (the payouts engine's
  rows for their referrals: amount, status, due date).
- `POST /p/{token}`: the form. The referral is logged for the partner's contact as program `partner`, so
  the ledger's blocking rules and the partner qualification apply (a lead below the bar shows "in review").

The link (warmintro.weblinks, kind "portal", payload `p` the partner_id) names one partner, and the page only
ever reads that partner's referrals: nobody else's submissions or commissions. A tampered or expired link
gets a 403 page and changes nothing; the form carries a CSRF token derived from the link, and a cross-site
Origin is refused. Every value is HTML-escaped.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from slackapp.deps import Deps
from warmintro.errors import ConfigError, WarmintroError
from warmintro.store import models as m
from web.csrf import cross_site
from web.templates import Html, join, template
from web.templates import render as render_html

log = logging.getLogger(__name__)

KIND = "portal"  # warmintro.engines.partners.portal_link signs these
MAX_FORM = 8_000
STAGE_LABEL = {"held": "in review", "suggested": "received", "asked": "received", "approved": "with our team",
               "intro_sent": "contacted", "meeting": "meeting held", "opportunity": "opportunity", "won": "won",
               "lost": "closed, not won", "declined": "not pursued", "no_response": "no response"}


def page(title: str, body: Html, *, status: int = 200) -> HTMLResponse:
    doc = render_html("portal_page.html", title=title, css=Html(template("portal.css")), body=body)
    headers = {"Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                           "base-uri 'none'; frame-ancestors 'none'"),
               "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
               "Cache-Control": "no-store"}
    return HTMLResponse(doc, status_code=status, headers=headers)


def message(title: str, text: str, status: int) -> HTMLResponse:
    return page(title, render_html("message.html", title=title, text=text), status=status)


# --- the page ------------------------------------------------------------------------------------------

def _deal_stages(session: Any, referral_ids: set[str], now: Any) -> dict[str, str]:
    """The stage of the deal each referral is credited with (attribution, as of now): open, won or lost."""
    from warmintro.engines.attribution import attribution, stage_as_of

    out: dict[str, str] = {}
    for c in attribution(session, now):
        if c.referral_id in referral_ids:
            stage = stage_as_of(c.stage, c.closed_at, now)
            if stage == "won" or c.referral_id not in out:  # a won deal wins over an open or lost one
                out[c.referral_id] = stage
    return out


def _stage(status: str, deal: str | None) -> str:
    """The further of the referral's own status and its deal's: a partner whose lead became a won deal sees
    "won", not the "with our team" the referral row still says (the CRM moved the deal, not the ledger)."""
    from warmintro.engines.ledger import FUNNEL_RANK

    if deal is None or status in ("held", "declined"):
        return status
    seen = {"won": "won", "lost": "lost"}.get(deal, "opportunity")
    if seen == "lost":
        return "lost" if status != "won" else status
    return seen if FUNNEL_RANK.get(seen, -1) > FUNNEL_RANK.get(status, -1) else status


def _view(deps: Deps, partner_id: str) -> dict[str, Any] | None:
    """Everything the page shows, for this partner only."""
    from sqlalchemy import select

    from warmintro import weblinks
    from warmintro.engines.partners import partner_referrals
    from warmintro.engines.rewards import payouts

    now = deps.now()
    with deps.store.session() as s:
        partner = s.get(m.Partner, partner_id)
        if partner is None:
            return None
        refs = partner_referrals(s, partner)
        ids = {r.referral_id for r in refs}
        deals = _deal_stages(s, ids, now) if ids else {}
        subs = [{"referral_id": r.referral_id, "name": r.referee_name or r.referee_email,
                 "company": r.referee_company or r.referee_domain, "created_at": r.created_at,
                 "stage": STAGE_LABEL.get(_stage(r.status, deals.get(r.referral_id)), r.status)}
                for r in reversed(refs)]
        commissions = [p for p in payouts(s, now) if p.referral_id in ids] if ids else []
        summary = {"name": partner.name, "contact": partner.contact_email, "kind": partner.kind}
        vendor = s.scalars(select(m.ProgramSetting).where(m.ProgramSetting.section == "vendor")).first()
        summary["vendor"] = (vendor.value or {}).get("name") if vendor is not None else None
    code = None
    if summary["contact"]:
        try:
            code = weblinks.referrer_code(deps.store, str(summary["contact"]), now)
        except WarmintroError:
            log.warning("portal: no tracking code")
    return {**summary, "tracking_url": f"{deps.settings.resolved_public_url}/r/{code}" if code else None,
            "submissions": subs, "commissions": [c.to_json() for c in commissions]}


def render(data: dict[str, Any], token: str, csrf: str, *, notice: str | None = None, problem: str | None = None,
           status: int = 200) -> HTMLResponse:
    none_yet = render_html("none_yet.html")
    rows = [render_html("portal_submission.html", name=x["name"], company=x["company"], stage=x["stage"],
                   sent=x["created_at"].date().isoformat() if x["created_at"] else "")
            for x in data["submissions"]]
    total = sum(c["amount"] for c in data["commissions"] if c["status"] in ("due", "paid"))
    crows = [render_html("portal_commission.html", due=(c["due_at"] or "")[:10] or "on close", status=c["status"],
                    amount=f"{c['amount']:,.2f}") for c in data["commissions"]]
    body = render_html(
        "portal.html", name=data["name"],
        with_vendor=render_html("portal_with_vendor.html", vendor=data["vendor"]) if data["vendor"] else "",
        notice=render_html("portal_notice.html", text=notice) if notice else "",
        problem=render_html("portal_problem.html", text=problem) if problem else "",
        tracking=render_html("portal_tracking.html", url=data["tracking_url"]) if data["tracking_url"] else "",
        form=render_html("portal_form.html", token=token, csrf=csrf) if data["contact"] else "",
        submissions=render_html("portal_submissions.html", rows=join(rows)) if rows else none_yet,
        commissions=render_html("portal_commissions.html", rows=join(crows), total=f"{total:,.2f}") if crows else none_yet)
    return page(f"{data['name']}: referrals", body, status=status)


def _submit(deps: Deps, partner_id: str, form: dict[str, str]) -> tuple[str | None, str | None]:
    """(notice, problem) after logging the form's referral."""
    from warmintro import weblinks
    from warmintro.engines.ledger import ReferralBlocked, create_referral

    name = form.get("name", "").strip()[:256]
    email = form.get("email", "").strip().lower()
    company = form.get("company", "").strip()[:256] or None
    if not name or not weblinks.valid_email(email):
        return None, "Please give a name and a valid email address."
    with deps.store.session() as s:
        partner = s.get(m.Partner, partner_id)
        contact = partner.contact_email if partner is not None else None
    if not contact:
        return None, "Your company has no contact on file with us yet; please ask your partner manager."
    try:
        view = create_referral(deps.store, referrer_email=contact, referee_email=email, at=deps.now(),
                               referee_name=name, referee_company=company, program_kind="partner",
                               source_tag="referral:partner:portal", idempotency_key=f"portal:{partner_id}:{email}"[:128],
                               actor=f"portal:{partner_id}")
    except ReferralBlocked as exc:
        reasons = {"same_domain": "they work at your own company", "customer": "they are already a customer",
                   "do_not_contact": "they asked not to be contacted", "competitor": "we can't take that one"}
        return None, f"We can't take this referral: {reasons.get(exc.reason, exc.reason)}. Nothing was recorded."
    if not view.created:
        return f"You already referred {name}; it is in the list below.", None
    if view.status == "held":
        return f"Thank you! {name} is in review with our partner team first; you'll see the stage below.", None
    return f"Thank you! {name} is with our team now.", None


def routes(deps: Deps) -> list[BaseRoute]:
    from warmintro import weblinks

    async def portal(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            payload = weblinks.verify(deps.settings, token, deps.now(), KIND)
        except ConfigError:
            return message("Not available", "These pages are not set up on this server yet.", 503)
        except weblinks.BadLink as exc:
            if exc.reason == "expired":
                return message("This link has expired", "Ask your partner manager for a new one; nothing was "
                               "changed.", 403)
            return message("This link isn't valid", "The link may have been copied incompletely or changed. "
                           "Nothing was changed.", 403)
        partner_id = str(payload.get("p") or "")
        csrf = weblinks.csrf_token(deps.settings, token)
        notice = problem = None
        status = 200
        if request.method == "POST":
            if cross_site(request, opaque_origin_is_cross_site=True):
                return message("Not allowed", "This form can only be sent from its own page.", 403)
            body = await request.body()
            if len(body) > MAX_FORM:
                return message("That was too much", "The form was too large.", 413)
            fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
            if not weblinks.csrf_ok(deps.settings, token, fields.get("csrf")):
                return message("Not allowed", "This form is out of date; reload the page and try again.", 403)
            notice, problem = await run_in_threadpool(_submit, deps, partner_id, fields)
            status = 200 if problem is None else 422
        data = await run_in_threadpool(_view, deps, partner_id)
        if data is None:
            return message("This link isn't valid", "The partner it was made for is no longer on file.", 403)
        return render(data, token, csrf, notice=notice, problem=problem, status=status)

    return [Route("/p/{token}", portal, methods=["GET", "POST"])]
