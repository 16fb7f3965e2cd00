"""Signed, expiring links to the web pages, and referrers' tracking codes (docs/web.md).

A link token is `base64url(JSON payload) "." base64url(HMAC-SHA256(secret, "warmintro-link:v1." + payload))`;
the payload says what it opens (`k`: "approve" or "refer"), for whom (`e`, and `a` the ask id), and until when
(`x`, unix seconds). Any change to a byte of it fails the HMAC (compared in constant time); an expired token is
refused even when its signature is good. The secret is WARMINTRO_LINK_SECRET: without it nothing is signed
(ConfigError) and no link is accepted.

The CSRF token of a page is derived from its link token (HMAC with a different label), so only a page this
server rendered from a valid link can post its form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from warmintro.errors import ConfigError, NotFoundError, WarmintroError
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store

LABEL = b"warmintro-link:v1."
CSRF_LABEL = b"warmintro-csrf:v1."
IP_LABEL = b"warmintro-ip:v1."
DEFAULT_APPROVE_TTL = timedelta(days=7)
DEFAULT_REFER_TTL = timedelta(days=365)
MAX_TTL = timedelta(days=730)
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: readable aloud
CODE_LENGTH = 8
CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class BadLink(WarmintroError):
    """A link that is not ours (tampered, malformed) or no longer valid (expired)."""

    exit_code = 4

    def __init__(self, reason: str) -> None:
        self.reason = reason  # "tampered" or "expired"
        super().__init__(f"link {reason}")


def _secret(settings: Settings) -> bytes:
    if settings.link_secret is None or not settings.link_secret.get_secret_value():
        raise ConfigError("WARMINTRO_LINK_SECRET is not set: links to the web pages cannot be signed or checked. "
                          "Set it to a long random string (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`).")
    return settings.link_secret.get_secret_value().encode("utf-8")


def links_configured(settings: Settings) -> bool:
    return settings.link_secret is not None and bool(settings.link_secret.get_secret_value())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, label: bytes, data: bytes) -> bytes:
    return hmac.new(secret, label + data, hashlib.sha256).digest()


def sign(settings: Settings, payload: dict[str, Any], expires_at: datetime) -> str:
    body = json.dumps({**payload, "x": int(expires_at.timestamp())}, separators=(",", ":"), sort_keys=True).encode()
    encoded = _b64(body)
    return f"{encoded}.{_b64(_mac(_secret(settings), LABEL, encoded.encode('ascii')))}"


def verify(settings: Settings, token: str, now: datetime, kind: str) -> dict[str, Any]:
    """The payload of a good, unexpired token of this kind; else BadLink("tampered" | "expired")."""
    secret = _secret(settings)
    if not token or len(token) > 2048 or token.count(".") != 1:
        raise BadLink("tampered")
    encoded, mac = token.split(".")
    try:
        given = _unb64(mac)
        good = hmac.compare_digest(given, _mac(secret, LABEL, encoded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise BadLink("tampered") from None
    if not good:
        raise BadLink("tampered")
    try:
        payload = json.loads(_unb64(encoded))
    except (binascii.Error, ValueError):
        raise BadLink("tampered") from None
    if not isinstance(payload, dict) or payload.get("k") != kind or not isinstance(payload.get("x"), int):
        raise BadLink("tampered")
    if now.timestamp() >= payload["x"]:
        raise BadLink("expired")
    return payload


def csrf_token(settings: Settings, token: str) -> str:
    return _b64(_mac(_secret(settings), CSRF_LABEL, token.encode("utf-8")))[:32]


def csrf_ok(settings: Settings, token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(settings, token).encode(), str(given).encode())


def ip_hash(settings: Settings, ip: str | None) -> str | None:
    """A keyed hash of the visitor's IP: counts distinct visitors without storing who they are."""
    if not ip:
        return None
    return _mac(_secret(settings), IP_LABEL, ip.encode("utf-8")).hex()[:32]


def parse_ttl(text: str) -> timedelta:
    """"7d", "36h", "90m", "2w" -> a timedelta (at most two years)."""
    match = re.fullmatch(r"\s*(\d+)\s*([wdhm])\s*", text or "")
    if not match:
        raise WarmintroError(f"bad --ttl {text!r}: use a number and a unit, e.g. 7d, 36h, 90m, 2w")
    n, unit = int(match.group(1)), match.group(2)
    ttl = {"w": timedelta(weeks=n), "d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]
    if ttl <= timedelta(0) or ttl > MAX_TTL:
        raise WarmintroError(f"bad --ttl {text!r}: between 1 minute and {MAX_TTL.days} days")
    return ttl


def valid_email(text: str) -> bool:
    return len(text) <= 320 and EMAIL_RE.match(text) is not None


# --- approval links ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        from warmintro.engines.timeutil import iso

        return {"url": self.url, "expires_at": iso(self.expires_at)}


def open_ask(store: Store, champion_email: str) -> m.Ask:
    """The champion's open ask (outcome pending), the latest one; NotFoundError when there is none."""
    email = champion_email.strip().lower()
    with store.session() as s:
        contact = s.scalars(select(m.Contact).where(m.Contact.email == email)).first()
        if contact is None:
            raise NotFoundError(f"no customer contact {email!r}")
        ask = s.scalars(select(m.Ask).where(m.Ask.contact_email == email, m.Ask.outcome == "pending")
                        .order_by(m.Ask.asked_at.desc(), m.Ask.id.desc())).first()
        if ask is None:
            raise NotFoundError(f"{email} has no open ask: send one first (the CSM's queue, or `/referrals`)")
        s.expunge(ask)
        return ask


def approval_link(store: Store, settings: Settings, champion_email: str, now: datetime,
                  ttl: timedelta = DEFAULT_APPROVE_TTL) -> Link:
    _secret(settings)
    ask = open_ask(store, champion_email)
    expires = (now + ttl).astimezone(UTC).replace(microsecond=0)
    token = sign(settings, {"k": "approve", "a": ask.id, "e": ask.contact_email}, expires)
    return Link(f"{settings.resolved_public_url}/a/{token}", expires)


# --- referrers: tracking codes and the submission form ----------------------------------------------------


@dataclass(frozen=True)
class ReferrerLinks:
    code: str
    tracking_url: str
    form_url: str
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        from warmintro.engines.timeutil import iso

        return {"code": self.code, "tracking_url": self.tracking_url, "form_url": self.form_url,
                "form_expires_at": iso(self.expires_at)}


def referrer_code(store: Store, email: str, now: datetime) -> str:
    """The referrer's personal code, made on first use and the same ever after."""
    email = email.strip().lower()
    for _ in range(5):
        with store.session() as s:
            existing = s.scalars(select(m.ReferralCode.code).where(m.ReferralCode.referrer_email == email)).first()
            if existing:
                return existing
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with store.session() as s:
                s.add(m.ReferralCode(code=code, referrer_email=email, created_at=now))
            return code
        except IntegrityError:
            continue  # another process made this referrer's code at the same moment, or the code was taken
    raise WarmintroError("could not allocate a referral code; try again")


def code_owner(store: Store, code: str) -> str | None:
    if not CODE_RE.match(code or ""):
        return None
    with store.session() as s:
        return s.scalars(select(m.ReferralCode.referrer_email).where(m.ReferralCode.code == code)).first()


def referrer_links(store: Store, settings: Settings, email: str, now: datetime,
                   ttl: timedelta = DEFAULT_REFER_TTL) -> ReferrerLinks:
    _secret(settings)
    email = email.strip().lower()
    if not valid_email(email):
        raise WarmintroError(f"not an email address: {email!r}")
    code = referrer_code(store, email, now)
    expires = (now + ttl).astimezone(UTC).replace(microsecond=0)
    token = sign(settings, {"k": "refer", "e": email}, expires)
    base = settings.resolved_public_url
    return ReferrerLinks(code, f"{base}/r/{code}", f"{base}/refer/{token}", expires)


def landing_url(settings: Settings, vendor_domain: str | None, code: str) -> str:
    """Where a tracking link sends the visitor: the configured landing page with `ref=CODE` added."""
    base = settings.landing_url or (f"https://{vendor_domain}/" if vendor_domain else settings.resolved_public_url + "/")
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ref"] + [("ref", code)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), parts.fragment))
