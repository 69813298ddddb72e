"""Who is asking, for every route of the page: the session cookie, the signed-in user,
the CSRF check of a posted form, and the answers for "sign in first" and "refused".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from ecb_files.api.dependencies import origin_of
from ecb_files.api.request_context import note
from ecb_files.api.threads import in_thread
from ecb_files.api.ui.csrf import CSRF_FIELD, tokens_match
from ecb_files.api.ui.templating import page
from ecb_files.services.audit import Origin
from ecb_files.services.container import Services
from ecb_files.services.sign_in import SignedIn
from ecb_files.services.visibility import Viewer

SESSION_COOKIE = "ecb_ui_session"
SIGN_IN_PATH = "/ui/sign-in"


class SignInRequired(Exception):
    """No live session: the answer is the sign-in page."""


class CsrfRefused(Exception):
    """A state-changing form without its session's CSRF token (§11.3: 403)."""


class ActionNotAllowed(Exception):
    """A viewer posted a handler's form (the page offers them none): 403."""


class PageNotFound(Exception):
    """What the page was asked for does not exist for this user (or at all)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class Visitor:
    """A signed-in request: the services, the user and session, the session cookie, and
    where the request came from (the audit trail's, §12.3)."""

    services: Services
    signed_in: SignedIn
    cookie_value: str
    origin: Origin

    @property
    def csrf_token(self) -> str:
        return self.signed_in.session.csrf_token

    @property
    def viewer(self) -> Viewer:
        """The user as the read side's services know a reader (their visibility)."""
        return self.signed_in.user.viewer()

    @property
    def may_act(self) -> bool:
        return self.viewer.can_write


async def visitor(request: Request) -> Visitor:
    services: Services = request.app.state.services
    cookie_value = request.cookies.get(SESSION_COOKIE, "")
    if not cookie_value:
        raise SignInRequired
    signed_in = await in_thread(partial(services.sign_in.signed_in, cookie_value))
    if signed_in is None:
        raise SignInRequired
    note(request, user=signed_in.user.email, tenant=signed_in.user.tenant_id)
    return Visitor(services, signed_in, cookie_value, await origin_of(request))


VisitorDep = Annotated[Visitor, Depends(visitor)]


async def checked_form(request: Request, visitor: VisitorDep) -> FormData:
    """The posted form, once its CSRF token is the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not tokens_match(visitor.csrf_token, sent if isinstance(sent, str) else None):
        raise CsrfRefused
    return form


CheckedFormDep = Annotated[FormData, Depends(checked_form)]


async def handler_form(form: CheckedFormDep, visitor: VisitorDep) -> FormData:
    """A handler's action form: CSRF-checked, from a user who may act."""
    if not visitor.may_act:
        raise ActionNotAllowed
    return form


HandlerFormDep = Annotated[FormData, Depends(handler_form)]


async def sign_in_first(request: Request, _error: Exception) -> Response:
    # A form posted after the session ended comes back to the page, not the form URL.
    return RedirectResponse(SIGN_IN_PATH, status_code=303)


async def csrf_refused(request: Request, _error: Exception) -> Response:
    return _message(
        403,
        "This form has expired",
        "The form was sent without a valid security token, so nothing was changed. "
        "Go back, reload the page and try again.",
    )


async def action_not_allowed(request: Request, _error: Exception) -> Response:
    return _message(
        403, "Not allowed", "Your role may read cases and damage notifications, not change them."
    )


async def page_not_found(request: Request, error: Exception) -> Response:
    what = error.what if isinstance(error, PageNotFound) else "page"
    return _message(404, "Not found", f"There is no {what} here, or it is not one of yours.")


def _message(status_code: int, heading: str, message: str) -> Response:
    return page(
        "message.html",
        status_code=status_code,
        user=None,
        heading=heading,
        message=message,
        back_href="/ui/",
        back_text="Back to cases and damage notifications",
    )


def visitor_page(
    visitor: Visitor, template: str, status_code: int = 200, **context: object
) -> Response:
    """A page for a signed-in user: the header shows who they are and offers sign-out."""
    user = visitor.signed_in.user
    return page(
        template,
        status_code=status_code,
        user=user,
        tenant_name=user.tenant_alias,
        csrf_token=visitor.csrf_token,
        **context,
    )
