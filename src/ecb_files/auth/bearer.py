"""The ``Authorization: Bearer`` header of the submit endpoints (RFC 6750 §2.1; §2, §9)."""

from __future__ import annotations

from ecb_files.domain.scopes import PARTNER_WRITE

#: The scope a token needs to submit files; a valid token without it is answered 403.
REQUIRED_SCOPE = PARTNER_WRITE


def parse_bearer(authorization: str | None) -> str | None:
    """The token of a ``Bearer`` Authorization header.

    ``None`` when there is no header or it uses another scheme (treated as no header,
    §9). The scheme is matched case-insensitively. ``Bearer`` with nothing but
    whitespace after it gives ``""``: a token was meant but is malformed (401
    ``invalid_token``). The token itself is not checked here; the verifier refuses
    anything that is not a valid JWT.
    """
    if authorization is None:
        return None
    parts = authorization.split(None, 1)
    if not parts or parts[0].lower() != "bearer":
        return None
    return parts[1].strip() if len(parts) == 2 else ""
