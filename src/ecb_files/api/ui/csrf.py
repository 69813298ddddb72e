"""CSRF protection for the page's forms (§11.3): the synchronizer token pattern.

A signed-in session's forms carry the session's own random token (kept in its database
row), compared in constant time; a cross-site page cannot read it. The sign-in form has
no session yet: it uses the double-submit form of the pattern, a random token in a
``SameSite=Strict`` cookie and the same token in the form. Both are the patterns of the
OWASP CSRF Prevention Cheat Sheet; docs/claims-handlers.md says why no library does it.
"""

from __future__ import annotations

import hmac
import secrets

CSRF_FIELD = "csrf_token"
SIGN_IN_CSRF_COOKIE = "ecb_ui_signin_csrf"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, sent: str | None) -> bool:
    """``True`` only for two equal, non-empty tokens (compared in constant time)."""
    if not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())
