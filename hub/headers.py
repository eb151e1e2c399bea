"""Security headers on every response.

The pages load scripts and styles only from /static (no inline script, no inline
style, no event-handler attributes: tests/test_headers.py checks the templates),
so the policy can forbid everything else. A view that needs a narrower policy
(the PDF preview) sets its own and keeps it.
"""
from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",            # the API and Socket.IO on the same origin (ws/wss included)
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
))
HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # Only over TLS (behind nginx: HUB_PROXY_HOPS makes X-Forwarded-Proto count),
    # so that a plain-HTTP test or intranet install is not locked out of itself.
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
