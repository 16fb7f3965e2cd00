"""The web pages, served beside the Slack endpoint (docs/web.md): a champion's approval page, a referrer's
three-field submission form, and referrers' tracking links.

- `GET|POST /a/{token}`: the champion's open ask from a signed, expiring link; Approve / Not a fit / Not now
  go through warmintro.flows.approval, the same code path as the Slack buttons, and an ask is answered once across
  both surfaces.
- `GET|POST /refer/{token}`: name, email and company of someone the referrer (known from the signed link)
  introduces; the ledger's blocking rules apply, with a friendly message and nothing recorded.
- `GET /r/{code}`: a referrer's tracking link: records the click and redirects (302) to the landing page with
  `ref=CODE`; `POST /r/{code}/signup` (a landing page's signup form) creates or credits the referral.

A tampered or expired link gets a 403 page and changes nothing. Forms carry a CSRF token derived from the
link; a cross-site Origin is refused; requests are rate limited per IP and per link. HTML is rendered on the
server (no build, a few lines of JS for the copy button) and every value is escaped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from slackapp.blocks import mailto_url
from slackapp.deps import Deps
from slackapp.notices import notify_csm, send_handoff
from warmintro import weblinks
from warmintro.errors import ConfigError
from warmintro.flows import approval
from warmintro.flows.approval import NoteDraft
from warmintro.flows.queue import target_emails
from warmintro.program import load_program
from warmintro.store import models as m
from web.csrf import cross_site
from web.ratelimit import Limits, RateLimiter
from web.templates import Html, join, render, template

log = logging.getLogger(__name__)

MAX_FORM = 64_000
MAX_SUBJECT = 200
MAX_BODY = 5_000
MAX_FIELD = 200


# ---------------------------------------------------------------------------------------------------
# HTML

def page(title: str, body: Html, *, status: int = 200, script: str | None = None, vendor: str | None = None) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    doc = render("page.html", title=title, css=Html(template("pages.css")), body=body,
                 header=render("vendor_header.html", vendor=vendor) if vendor else "",
                 script=render("script.html", nonce=nonce, script=Html(script)) if script else "")
    headers = {
        "Content-Security-Policy": (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
                                    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
        "Referrer-Policy": "same-origin",  # the token is in the URL: never hand it to another site
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(doc, status_code=status, headers=headers)


def message_page(title: str, text: str, *, status: int, vendor: str | None = None) -> HTMLResponse:
    return page(title, render("message.html", title=title, text=text), status=status, vendor=vendor)


def bad_link(reason: str) -> HTMLResponse:
    if reason == "expired":
        return message_page("This link has expired", "For your security, links to this page stop working after a "
                            "while. Ask your account team for a new one; nothing was changed.", status=403)
    return message_page("This link isn't valid", "The link may have been copied incompletely or changed. Ask your "
                        "account team for a new one; nothing was changed.", status=403)


def not_configured() -> HTMLResponse:
    return message_page("Not available", "These pages are not set up on this server yet.", status=503)


def too_many() -> HTMLResponse:
    resp = message_page("Too many requests", "Please wait a minute and try again.", status=429)
    resp.headers["Retry-After"] = "60"
    return resp


def first_name(name: str | None) -> str:
    return (name or "").split(" ")[0] or "there"


def note_hash(subject: str, body: str) -> str:
    return hashlib.sha256(f"{subject}\x00{body}".encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------
# The routes


class Web:
    def __init__(self, deps: Deps, limits: Limits) -> None:
        self.deps = deps
        self.by_ip = RateLimiter(limits.per_ip, limits.window_s)
        self.by_link = RateLimiter(limits.per_link, limits.window_s)

    # --- plumbing ----------------------------------------------------------------------------------------

    def limited(self, request: Request, link: str) -> bool:
        ip = request.client.host if request.client else "unknown"
        return not (self.by_ip.allow(ip) and self.by_link.allow(hashlib.sha256(link.encode()).hexdigest()))

    @staticmethod
    async def read_form(request: Request) -> dict[str, list[str]] | None:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_FORM:
            return None
        body = await request.body()
        if len(body) > MAX_FORM:
            return None
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            return {str(k): [str(v)] for k, v in data.items() if isinstance(v, str | int | float)}
        form = await request.form(max_files=0, max_fields=100)
        out: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                out.setdefault(key, []).append(value)
        return out

    def vendor(self) -> str:
        with self.deps.store.session() as s:
            return load_program(s).vendor.name

    # --- the champion's approval page --------------------------------------------------------------------

    def _ask_for(self, payload: dict[str, Any]) -> m.Ask | None:
        """The ask the link names, only while it is that champion's (no page shows another's data)."""
        try:
            ask_id = int(payload.get("a"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        with self.deps.store.session() as s:
            ask = s.get(m.Ask, ask_id)
            if ask is None or ask.contact_email != str(payload.get("e") or "").lower():
                return None
            s.expunge(ask)
            return ask

    def approval_get(self, token: str, payload: dict[str, Any], error: str | None = None, status: int = 200,
                     form: dict[str, list[str]] | None = None) -> Response:
        deps = self.deps
        ask = self._ask_for(payload)
        vendor = self.vendor()
        if ask is None:
            return message_page("This ask is no longer open", "Your account team may send you a new one.",
                                status=404, vendor=vendor)
        with deps.store.session() as s:
            champion = s.scalars(select(m.Contact).where(m.Contact.email == ask.contact_email)).one()
            csm = s.get(m.TeamMember, ask.asked_by) if ask.asked_by else None
            csm_name = csm.name if csm is not None else None
            champ_name = champion.name
        if ask.outcome != "pending" or approval.is_answered(deps.store, ask.id):
            return self.answered(ask, champ_name, vendor)
        targets = approval.ask_targets(deps.store, ask, deps.now(), deps.target_limit)
        if not targets:
            return message_page("Nothing to approve yet", "There are no names in this ask right now; your account "
                                "team will be in touch.", status=200, vendor=vendor)
        notes = approval.draft_for_ask(deps.store, deps.settings, ask, targets, deps.now())
        with deps.store.session() as s:
            lines, emails, _note = target_emails(s, ask.contact_email, deps.now(), max(deps.target_limit, len(targets)))
            reasons = {e: line for e, line in zip(emails, lines, strict=False)}
            people = {t: s.get(m.Person, t) for t in targets}
        csrf = weblinks.csrf_token(deps.settings, token)
        intro = (render("approval_intro.html", csm_name=csm_name, vendor=vendor) if csm_name
                 else render("approval_intro_no_csm.html", vendor=vendor))
        cards = []
        picked = set((form or {}).get("pick", [str(i) for i in range(len(targets))]))
        for i, (email, note) in enumerate(zip(targets, notes, strict=True)):
            person = people.get(email)
            line = reasons.get(email)
            detail = " at ".join(x for x in ((person.title, person.company) if person else ()) if x)
            reason = line.champion_reason if line is not None else ""  # human terms only, never counts
            cards.append(render(
                "approval_card.html", index=i, email=email, to_name=note.to_name, detail=detail,
                checked=Html(" checked") if str(i) in picked else "",
                reason=render("approval_reason.html", reason=reason) if reason else "",
                first_name=first_name(note.to_name), max_subject=MAX_SUBJECT, max_body=MAX_BODY,
                subject=(form or {}).get(f"subject_{i}", [note.subject])[0],
                body=(form or {}).get(f"body_{i}", [note.body])[0],
                source=note.source, hash=note_hash(note.subject, note.body)))
        body_html = render("approval.html", first_name=first_name(champ_name), intro=intro, token=token, csrf=csrf,
                           error=render("error.html", text=error) if error else "", cards=join(cards))
        return page(f"{vendor}: introductions", body_html, status=status, vendor=vendor)

    def answered(self, ask: m.Ask, champ_name: str | None, vendor: str) -> Response:
        first = first_name(champ_name)
        if ask.outcome == "declined":
            return message_page("No problem at all", f"Thanks {first}, we won't ask again for a good while.",
                                status=200, vendor=vendor)
        if ask.outcome != "accepted" and approval.said_not_a_fit(self.deps.store, ask):
            return message_page("Thanks, noted", f"Thanks {first}: those names aren't a fit. Your account team may "
                                "come back with better ones.", status=200, vendor=vendor)
        done = approval.last_approval(self.deps.store, ask) if ask.outcome == "accepted" else None
        notes = (done or {}).get("notes")
        if not notes:
            return message_page("Thank you!", f"Thanks {first}, you already answered this one. Your notes are in your "
                                "messages from us.", status=200, vendor=vendor)
        cards = [render("answered_card.html", index=i, to_email=n["to_email"], to_name=n["to_name"],
                        note=f"Subject: {n['subject']}\n\n{n['body']}",
                        mailto=mailto_url(n["to_email"], n["subject"], n["body"]))
                 for i, n in enumerate(notes)]
        blocked = (done or {}).get("blocked") or {}
        body_html = render("answered.html", first_name=first, cards=join(cards),
                           which="is your note" if len(notes) == 1 else "are your notes",
                           blocked=render("answered_blocked.html", count=len(blocked),
                                          plural="s" if len(blocked) != 1 else "") if blocked else "")
        return page(f"{vendor}: your notes", body_html, script=template("copy.js"), vendor=vendor)

    def approval_post(self, token: str, payload: dict[str, Any], form: dict[str, list[str]]) -> Response:
        from warmintro.engines.cadence import CadenceViolation

        deps = self.deps
        if not weblinks.csrf_ok(deps.settings, token, (form.get("csrf") or [""])[0]):
            return message_page("This form has expired", "Please open the link again; nothing was changed.", status=403)
        ask = self._ask_for(payload)
        if ask is None:
            return message_page("This ask is no longer open", "Your account team may send you a new one.", status=404)
        action = (form.get("action") or [""])[0]
        if action not in ("approve", "not_a_fit", "not_now"):
            return self.approval_get(token, payload, error="Please choose Approve, Not a fit or Not now.", status=400,
                                     form=form)
        again = RedirectResponse(f"/a/{token}", status_code=303)
        if ask.outcome != "pending":
            return again  # answered already: the page shows the answer (a retry records nothing)
        targets = approval.ask_targets(deps.store, ask, deps.now(), deps.target_limit)
        notes: list[NoteDraft] = []
        if action == "approve":
            picks: list[int] = []
            for raw in form.get("pick", []):
                if not raw.isdigit() or int(raw) >= len(targets):
                    return self.approval_get(token, payload, error="That list of names is out of date; please check "
                                             "it again.", status=400)
                picks.append(int(raw))
            if not picks:
                return self.approval_get(token, payload, error="Pick at least one name to introduce, or choose Not "
                                         "a fit.", status=400, form=form)
            with deps.store.session() as s:
                names = {e: (p.name if (p := s.get(m.Person, e)) is not None and p.name else e) for e in targets}
            for i in sorted(set(picks)):
                subject = (form.get(f"subject_{i}") or [""])[0].strip()
                body = (form.get(f"body_{i}") or [""])[0].replace("\r\n", "\n").strip()
                if not subject or not body:
                    return self.approval_get(token, payload, error=f"The note to {names[targets[i]]} needs a subject "
                                             "and a message.", status=400, form=form)
                if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
                    return self.approval_get(token, payload, error=f"The note to {names[targets[i]]} is too long "
                                             f"(at most {MAX_BODY} characters).", status=400, form=form)
                unchanged = (form.get(f"h_{i}") or [""])[0] == note_hash(subject, body)
                src = (form.get(f"src_{i}") or ["drafter"])[0]
                notes.append(NoteDraft(targets[i], names[targets[i]], subject, body,
                                       src if unchanged and src in ("drafter", "template") else "champion"))
        if not approval.claim_answer(deps.store, ask.id, deps.now()):
            return again
        actor = ask.contact_email
        try:
            if action == "approve":
                result = approval.approve(deps.store, deps.settings, ask, [n.to_email for n in notes], actor=actor,
                                          now=deps.now(), notes=notes, source_tag="web", via="web",
                                          on_created=self._handoff)
                self._tell_csm(ask, f"{ask.contact_email} approved your referral ask on the web page "
                                    f"({len(result.notes)} note{'s' if len(result.notes) != 1 else ''}).")
            elif action == "not_now":
                approval.decline(deps.store, ask, actor=actor, now=deps.now())
                self._tell_csm(ask, f"{ask.contact_email} said not now on the web page (recorded as declined; the "
                                    "cool-down has started).")
            else:
                approval.not_a_fit(deps.store, ask, actor=actor, now=deps.now(), via="web")
                self._tell_csm(ask, f"{ask.contact_email} said the suggested names are not a fit (web page).")
        except CadenceViolation as exc:
            approval.release_answer(deps.store, ask.id)
            log.warning("web answer refused by cadence", extra={"fields": {"reasons": exc.reasons}})
            return message_page("We couldn't record that", "Your account team has been told and will be in touch.",
                                status=409)
        except Exception:
            approval.release_answer(deps.store, ask.id)
            raise
        return again

    def _handoff(self, referral_id: str) -> None:
        if self.deps.client is not None:
            send_handoff(self.deps, self.deps.client, referral_id)

    def _tell_csm(self, ask: m.Ask, text: str) -> None:
        if self.deps.client is None:
            return
        try:
            notify_csm(self.deps, self.deps.client, ask.asked_by, text)
        except Exception as exc:
            log.warning("could not tell the CSM", extra={"fields": {"error": type(exc).__name__}})

    # --- the referral submission form ----------------------------------------------------------------------

    def refer_page(self, token: str, referrer: str, *, values: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None, notice: str | None = None, status: int = 200) -> Response:
        deps = self.deps
        with deps.store.session() as s:
            program = load_program(s)
            contact = s.scalars(select(m.Contact).where(m.Contact.email == referrer)).first()
            member = s.get(m.TeamMember, referrer)
            person = s.get(m.Person, referrer)
        name = (contact.name if contact else None) or (member.name if member else None) or (person.name if person else None)
        vendor = program.vendor.name
        values, errors = values or {}, errors or {}
        csrf = weblinks.csrf_token(deps.settings, token)

        def field(key: str, label: str, kind: str, auto: str) -> Html:
            bad = errors.get(key)
            return render("refer_field.html", key=key, label=label, kind=kind, auto=auto, max_field=MAX_FIELD,
                          value=values.get(key, ""), invalid=Html(" aria-invalid=true") if bad else "",
                          error=render("refer_field_error.html", text=bad) if bad else "")

        body_html = render("refer.html", vendor=vendor, first_name=first_name(name), token=token, csrf=csrf,
                           notice=render("error.html", text=notice) if notice else "",
                           fields=join([field("name", "Their name", "text", "off"),
                                        field("email", "Their work email", "email", "off"),
                                        field("company", "Their company", "text", "off")]))
        return page(f"{vendor}: introduce someone", body_html, status=status, vendor=vendor)

    def refer_post(self, token: str, referrer: str, form: dict[str, list[str]]) -> Response:
        from warmintro.engines.ledger import ReferralBlocked, create_referral, domain_of

        deps = self.deps
        if not weblinks.csrf_ok(deps.settings, token, (form.get("csrf") or [""])[0]):
            return message_page("This form has expired", "Please open the link again; nothing was sent.", status=403)
        values = {k: (form.get(k) or [""])[0].strip() for k in ("name", "email", "company")}
        values["email"] = values["email"].lower()
        errors: dict[str, str] = {}
        if not values["name"]:
            errors["name"] = "Please add their name."
        if not values["company"]:
            errors["company"] = "Please add their company."
        if not weblinks.valid_email(values["email"]):
            errors["email"] = "Please add a work email address, like jo@company.com."
        for key in ("name", "company"):
            if len(values[key]) > MAX_FIELD:
                errors[key] = f"At most {MAX_FIELD} characters, please."
        if errors:
            return self.refer_page(token, referrer, values=values, errors=errors, status=400)
        with deps.store.session() as s:
            program = load_program(s)
            rules = program.rules
        try:
            view = create_referral(deps.store, referrer_email=referrer, referee_email=values["email"], at=deps.now(),
                                   referee_name=values["name"], referee_company=values["company"],
                                   source_tag="web_form", status="approved", actor=referrer,
                                   idempotency_key=f"form:{referrer}:{values['email']}"[:128])
        except ReferralBlocked as exc:
            why = {
                "same_domain": f"{values['name']} works at your own company, so we can't count them as a referral. "
                               "Your account team is always happy to talk with them directly.",
                "customer": f"{values['company'] or domain_of(values['email'])} is already a {program.vendor.name} "
                            "customer, so there's no one to introduce there. Thank you for thinking of us!",
                "do_not_contact": "We're not able to contact this person, so we can't take this introduction. "
                                  "Thank you for thinking of us!",
                "competitor": f"We don't take introductions to {domain_of(values['email'])}. Thank you for thinking of us!",
            }.get(exc.reason, "We can't take this introduction.")
            return self.refer_page(token, referrer, values=values, notice=why + " Nothing was recorded.", status=422)
        if view.created:
            self._handoff(view.referral_id)
        body_html = render("refer_thanks.html", name=values["name"], company=values["company"],
                           first_name=first_name(values["name"]), sla_hours=rules.first_touch_sla_hours,
                           close_days=rules.close_loop_days, referral_id=view.referral_id, token=token)
        return page(f"{program.vendor.name}: thank you", body_html, vendor=program.vendor.name)

    # --- tracking links ------------------------------------------------------------------------------------

    def track(self, code: str, request: Request) -> Response:
        deps = self.deps
        owner = weblinks.code_owner(deps.store, code)
        if owner is None:
            return message_page("Link not found", "This link doesn't lead anywhere. Please check it.", status=404)
        ip = request.client.host if request.client else None
        with deps.store.session() as s:
            vendor_domain = load_program(s).vendor.domain
            s.add(m.LinkClick(code=code, referrer_email=owner, at=deps.now(),
                              ip_hash=weblinks.ip_hash(deps.settings, ip) if weblinks.links_configured(deps.settings) else None,
                              user_agent=(request.headers.get("user-agent") or "")[:256] or None,
                              referer=(request.headers.get("referer") or "")[:512] or None))
        return RedirectResponse(weblinks.landing_url(deps.settings, vendor_domain, code), status_code=302,
                                headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    def signup(self, code: str, form: dict[str, list[str]], wants_json: bool) -> Response:
        """A signup or form that arrived with a referral code: creates the referral (or credits the one this
        referrer already made for that person) in the ledger."""
        from warmintro.engines.ledger import ReferralBlocked, create_referral

        deps = self.deps
        owner = weblinks.code_owner(deps.store, code)

        def answer(data: dict[str, Any], status: int, title: str, text: str) -> Response:
            return JSONResponse(data, status_code=status) if wants_json else message_page(title, text, status=status)

        if owner is None:
            return answer({"error": "unknown_code"}, 404, "Link not found", "This referral link is not known.")
        email = (form.get("email") or [""])[0].strip().lower()
        name = (form.get("name") or [""])[0].strip()[:MAX_FIELD] or None
        company = (form.get("company") or [""])[0].strip()[:MAX_FIELD] or None
        if not weblinks.valid_email(email):
            return answer({"error": "invalid_email", "field": "email"}, 422, "Please check the email address",
                          "That doesn't look like an email address.")
        with deps.store.session() as s:
            existing = s.scalars(select(m.Referral).where(m.Referral.referrer_email == owner,
                                                          m.Referral.referee_email == email)
                                 .order_by(m.Referral.created_at.desc())).first()
            if existing is not None:
                s.add(m.AuditLog(at=deps.now(), actor=email, action="tracking_signup", subject=existing.referral_id,
                                 detail={"code": code, "credited": True}))
                rid, status = existing.referral_id, existing.status
        if existing is not None:
            return answer({"referral_id": rid, "status": status, "created": False}, 200, "Thank you!",
                          "You're signed up; we'll be in touch.")
        try:
            view = create_referral(deps.store, referrer_email=owner, referee_email=email, at=deps.now(),
                                   referee_name=name, referee_company=company, source_tag="tracking_link",
                                   status="approved", actor=email, idempotency_key=f"code:{code}:{email}"[:128])
        except ReferralBlocked as exc:
            return answer({"error": exc.reason}, 422, "Thank you!", "You're signed up; we'll be in touch.")
        if view.created:
            self._handoff(view.referral_id)
        return answer({"referral_id": view.referral_id, "status": view.status, "created": view.created},
                      201 if view.created else 200, "Thank you!", "You're signed up; we'll be in touch.")


def routes(deps: Deps, limits: Limits | None = None) -> list[BaseRoute]:
    web = Web(deps, limits or Limits())

    def guarded(kind: str, handler: Callable[[Request, str, dict[str, Any]], Awaitable[Response]]
                ) -> Callable[[Request], Awaitable[Response]]:
        """Rate limit, check the link (403 before anything else happens), then run the handler."""

        async def endpoint(request: Request) -> Response:
            token = request.path_params["token"]
            if web.limited(request, token):
                return too_many()
            try:
                payload = weblinks.verify(deps.settings, token, deps.now(), kind)
            except ConfigError:
                return not_configured()
            except weblinks.BadLink as exc:
                return bad_link(exc.reason)
            if request.method == "POST" and cross_site(request):
                return message_page("Not allowed", "This form can only be sent from its own page.", status=403)
            return await handler(request, token, payload)

        return endpoint

    async def approval_page(request: Request, token: str, payload: dict[str, Any]) -> Response:
        if request.method == "GET":
            return await run_in_threadpool(web.approval_get, token, payload)
        form = await web.read_form(request)
        if form is None:
            return message_page("That was too much", "The form was too large.", status=413)
        return await run_in_threadpool(web.approval_post, token, payload, form)

    async def refer_page(request: Request, token: str, payload: dict[str, Any]) -> Response:
        referrer = str(payload.get("e") or "").lower()
        if not weblinks.valid_email(referrer):
            return bad_link("tampered")
        if request.method == "GET":
            return await run_in_threadpool(web.refer_page, token, referrer)
        form = await web.read_form(request)
        if form is None:
            return message_page("That was too much", "The form was too large.", status=413)
        return await run_in_threadpool(web.refer_post, token, referrer, form)

    async def track(request: Request) -> Response:
        code = request.path_params["code"]
        if web.limited(request, "code:" + code):
            return too_many()
        return await run_in_threadpool(web.track, code, request)

    async def signup(request: Request) -> Response:
        code = request.path_params["code"]
        wants_json = ("application/json" in request.headers.get("accept", "")
                      or request.headers.get("content-type", "").startswith("application/json"))
        if web.limited(request, "code:" + code):
            return JSONResponse({"error": "rate_limited"}, status_code=429) if wants_json else too_many()
        form = await web.read_form(request)
        if form is None:
            return JSONResponse({"error": "too_large"}, status_code=413)
        return await run_in_threadpool(web.signup, code, form, wants_json)

    return [
        Route("/a/{token}", guarded("approve", approval_page), methods=["GET", "POST"]),
        Route("/refer/{token}", guarded("refer", refer_page), methods=["GET", "POST"]),
        Route("/r/{code}", track, methods=["GET"]),
        Route("/r/{code}/signup", signup, methods=["POST"]),
    ]
