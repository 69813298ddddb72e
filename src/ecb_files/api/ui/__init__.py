"""The claims-handler page at ``/ui/`` (§11.3): server-rendered HTML for insurer users,
served by the same process as the API.

- ``account``: sign-in and sign-out; ``access``: the session, CSRF and refusals;
- ``pages``: the lists, a case, a damage notification, the handler's actions;
- ``downloads``: a file's content, thumbnail and preview, a case's files as one ZIP;
- ``templating``: the one Jinja2 environment; ``templates/`` and ``static/`` beside it.

Everything it loads comes from the service itself (``static/``): no CDN, no web fonts.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from ecb_files.api.ui import access, account, downloads, pages, unknown
from ecb_files.api.ui.templating import STATIC

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the page's routes, its static files and its answers for refusals to ``app``."""
    # The static files first: the last router answers every other /ui/ address.
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    for module in (account, pages, downloads, unknown):
        app.include_router(module.router, include_in_schema=False)
    app.add_exception_handler(access.SignInRequired, access.sign_in_first)
    app.add_exception_handler(access.CsrfRefused, access.csrf_refused)
    app.add_exception_handler(access.ActionNotAllowed, access.action_not_allowed)
    app.add_exception_handler(access.PageNotFound, access.page_not_found)
