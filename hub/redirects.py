"""Redirect targets that come from the request (`next`, the Referer): a path on
this host, or the default. The one helper every such redirect goes through.

A target is read the way a browser reads a Location header (WHATWG URL):
tab, CR and LF anywhere are dropped, a backslash is a slash, and `//host` or
`scheme:` leave the site. So `/%09/evil.example`, `/\\evil.example` and
`\\\\evil.example` all mean `//evil.example` to a browser and are refused here,
as is any control character, a scheme (`javascript:`), a host, and a target
whose percent-decoded or Unicode-normalised (NFKC) form would leave the site
(`/%2F%2Fevil.example`, U+FF0F FULLWIDTH SOLIDUS, U+2215 DIVISION SLASH ...).
What is accepted is returned with anything outside printable ASCII
percent-encoded, so the Location header is always one safe line.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote, urlsplit

# What browsers strip from anywhere in a URL before parsing it.
_STRIPPED = str.maketrans("", "", "\t\r\n")
# Characters kept as they are when the target is re-encoded: the URL syntax
# characters and the ones that are already escapes.
_SAFE = "/?&=%#:@!$'()*+,;~[]-._"
# Look-alikes of / and \ that NFKC does not fold (it folds U+FF0F, U+FE68,
# U+FF3C): refused anywhere, as no page of ours has them in its path.
_LOOKALIKE_SLASHES = frozenset("\u2215\u2044\u29f8\u2571\u29f5\u29f9\u2216\u2572\u27cb\u27cd"
                               "\u3033\u2afd\u1735\u0338\u2cc6")


def _stays_here(target: str) -> bool:
    """`target` (normalised) is a path on this host."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    try:
        parts = urlsplit(target)
    except ValueError:                   # e.g. an unbalanced "[" (IPv6 host syntax)
        return False
    return not parts.scheme and not parts.netloc


def local_target(value: object, default: str) -> str:
    """`value` if it is a path on this host after browser-like normalisation,
    else `default` (which must itself be a local path, e.g. from url_for)."""
    if not isinstance(value, str) or not value or len(value) > 2000:
        return default
    target = value.translate(_STRIPPED).replace("\\", "/")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in target):
        return default
    decoded = unquote(target)
    if _LOOKALIKE_SLASHES & set(decoded):
        return default
    forms = {target, decoded, unicodedata.normalize("NFKC", target),
             unicodedata.normalize("NFKC", decoded).replace("\\", "/")}
    if not all(_stays_here(form.translate(_STRIPPED)) for form in forms):
        return default
    if any(ord(ch) < 0x20 for ch in decoded):       # an encoded CR/LF/NUL: no use to anyone
        return default
    return quote(target, safe=_SAFE)


def local_referrer(referrer: str | None, host: str, default: str) -> str:
    """The page a form was posted from, when it is a page of this host
    (`host` as the request names it); else `default`."""
    if not referrer:
        return default
    try:
        parts = urlsplit(referrer.translate(_STRIPPED).replace("\\", "/"))
    except ValueError:
        return default
    if parts.scheme not in ("http", "https") or parts.netloc != host:
        return default
    path = parts.path or "/"
    return local_target(path + (f"?{parts.query}" if parts.query else ""), default)
