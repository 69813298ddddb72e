"""Sign-in and sign-out (§11.3)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from ecb_files.api.dependencies import origin_of
from ecb_files.api.threads import in_thread
from ecb_files.api.ui.access import SESSION_COOKIE, SIGN_IN_PATH, CheckedFormDep, VisitorDep
from ecb_files.api.ui.csrf import CSRF_FIELD, SIGN_IN_CSRF_COOKIE, new_token, tokens_match
from ecb_files.api.ui.templating import page
from ecb_files.config import Settings
from ecb_files.services.container import Services
from ecb_files.services.sign_in import Refusal

router = APIRouter()

# One message for every refusal, so the page never tells whether an address has an account.
WRONG = "That e-mail address and password do not match an account that can sign in."
LOCKED = (
    "Too many failed sign-ins for this e-mail address. It is locked for 15 minutes; "
    "please try again later."
)
# Addresses longer than any real one are refused before any work (RFC 5321: 254).
MAX_EMAIL_CHARS = 320
MAX_PASSWORD_CHARS = 1024


@router.get(SIGN_IN_PATH)
async def sign_in_form(request: Request) -> Response:
    services: Services = request.app.state.services
    cookie_value = request.cookies.get(SESSION_COOKIE, "")
    if cookie_value:
        signed_in = await in_thread(partial(services.sign_in.signed_in, cookie_value))
        if signed_in is not None:
            return RedirectResponse("/ui/", status_code=303)
    return _sign_in_page(services.settings)


@router.post(SIGN_IN_PATH)
async def sign_in(request: Request) -> Response:
    services: Services = request.app.state.services
    form = await request.form()
    sent_token = form.get(CSRF_FIELD)
    if not tokens_match(
        request.cookies.get(SIGN_IN_CSRF_COOKIE),
        sent_token if isinstance(sent_token, str) else None,
    ):
        return _sign_in_page(services.settings, status_code=403, error=_EXPIRED)
    email = _text(form.get("email")).strip()
    password = _text(form.get("password"))
    if not email or len(email) > MAX_EMAIL_CHARS or len(password) > MAX_PASSWORD_CHARS:
        return _sign_in_page(services.settings, status_code=401, error=WRONG, email=email)
    origin = await origin_of(request)
    outcome = await in_thread(partial(services.sign_in.sign_in, email, password, origin))
    if isinstance(outcome, Refusal):
        message = LOCKED if outcome is Refusal.LOCKED else WRONG
        status = 429 if outcome is Refusal.LOCKED else 401
        return _sign_in_page(services.settings, status_code=status, error=message, email=email)
    response = RedirectResponse("/ui/", status_code=303)
    settings = services.settings
    response.set_cookie(
        SESSION_COOKIE,
        outcome.cookie_value,
        max_age=int(settings.ui_session_hours * 3600),
        path="/ui",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=SIGN_IN_PATH)
    return response


@router.post("/ui/sign-out")
async def sign_out(visitor: VisitorDep, _form: CheckedFormDep) -> Response:
    sign_out = visitor.services.sign_in.sign_out
    await in_thread(partial(sign_out, visitor.cookie_value, visitor.origin))
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/ui",
        httponly=True,
        samesite="lax",
        secure=visitor.services.settings.secure_cookies,
    )
    return response


_EXPIRED = "The sign-in form had expired. Please sign in again."


def _sign_in_page(
    settings: Settings, *, status_code: int = 200, error: str = "", email: str = ""
) -> Response:
    # A fresh double-submit token with every form shown (csrf.py says why).
    token = new_token()
    response = page(
        "sign_in.html", status_code=status_code, csrf_token=token, error=error, email=email
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        path=SIGN_IN_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )
    return response


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
