"""Shared page plumbing for the staff controllers: templates with the common context, flashes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from syndication.errors import NotFound
from syndication.staff.forms import FormState
from syndication.staff.web import LoginRequired, staff_session_guard, to_login

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
AnyRequest = Request[Any, Any, Any]


def page(request: AnyRequest, name: str, status: int = 200, **context: Any) -> Template:
    session = request.scope.get("session") or {}
    flash = session.pop("flash", None) if isinstance(session, dict) else None
    if flash is not None:
        request.set_session(session)
    context.setdefault("user", request.scope.get("staff"))
    return Template(
        template_name=f"staff/{name}",
        context={"flash": flash, "path": request.url.path, **context},
        status_code=status,
    )


def form_page(request: AnyRequest, name: str, state: FormState, **context: Any) -> Template:
    """A form drawn again with its errors: 422 when the input was refused."""
    status = 200 if state.ok else HTTP_422_UNPROCESSABLE_ENTITY
    return page(request, name, status, form=state, **context)


def done(request: AnyRequest, url: str, message: str) -> Redirect:
    """Post/redirect/get, with a one-time message shown on the next page."""
    current = request.scope.get("session")
    session = dict(current) if isinstance(current, dict) else {}
    session["flash"] = message
    request.set_session(session)
    return Redirect(url, status_code=303)


def not_found_page(request: AnyRequest, exc: NotFound) -> Response[Any]:
    return page(request, "not_found.html", HTTP_404_NOT_FOUND, detail=exc.detail)


def refused_page(request: AnyRequest, exc: PermissionDeniedException) -> Response[Any]:
    """A form sent without its CSRF token (or from another site): refused, in words."""
    return page(request, "refused.html", HTTP_403_FORBIDDEN, detail=exc.detail)


class StaffPages(Controller):
    """Every staff page: session login required, HTML answers for missing things."""

    guards = [staff_session_guard]
    exception_handlers = {
        LoginRequired: to_login,
        NotFound: not_found_page,
        PermissionDeniedException: refused_page,
    }
    include_in_schema = False
