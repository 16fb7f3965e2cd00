"""Cross-site request checks for the web forms. Each form also carries a CSRF token derived from its signed link
(`warmintro.weblinks.csrf_token` / `csrf_ok`); a POST whose Origin names another site is refused first."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request


def cross_site(request: Request, *, opaque_origin_is_cross_site: bool = False) -> bool:
    """True when the request's Origin header names another host than the one it was sent to. No Origin: False
    (the CSRF token decides); an opaque Origin ("null"): `opaque_origin_is_cross_site`."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null" and opaque_origin_is_cross_site
    return urlsplit(origin).netloc.lower() != (request.headers.get("host") or "").lower()
