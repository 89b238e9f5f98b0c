"""Log in and out of the staff web UI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from syndication.errors import Unauthenticated
from syndication.staff.accounts import end_web_sessions
from syndication.staff.forms import FormState, first
from syndication.staff.pages import AnyRequest, FormBody, page, refused_page
from syndication.staff.throttle import Throttled, log_in
from syndication.staff.web import LOGIN_PATH, UI_PREFIX, safe_next


class AuthController(Controller):
    path = UI_PREFIX
    include_in_schema = False
    exception_handlers = {PermissionDeniedException: refused_page}

    @get("/login", sync_to_thread=False)
    def login_form(self, request: AnyRequest, next: str | None = None) -> Template:
        state = FormState({"email": "", "next": safe_next(next)})
        return page(request, "login.html", form=state, user=None)

    @post("/login", sync_to_thread=True)
    def login(
        self,
        request: AnyRequest,
        db: Session,
        now: datetime,
        data: Annotated[dict[str, Any], FormBody],
    ) -> Response[Any]:
        email, target = first(data, "email"), safe_next(first(data, "next"))
        state = FormState({"email": email, "next": target})
        address = request.client.host if request.client else "unknown"
        try:
            user = log_in(db, email, first(data, "password"), address, now)
        except Throttled as exc:
            state.general.append(exc.detail)
            response = page(request, "login.html", 429, form=state, user=None)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except Unauthenticated as exc:
            state.general.append(exc.detail)
            return page(request, "login.html", 401, form=state, user=None)
        request.set_session(
            {
                "staff_id": user.id,
                "epoch": user.session_epoch,
                "flash": f"Logged in as {user.email}.",
            }
        )
        return Redirect(target, status_code=303)

    @post("/logout", sync_to_thread=True)
    def logout(self, request: AnyRequest, db: Session) -> Redirect:
        user_id = request.session.get("staff_id") if "session" in request.scope else None
        if isinstance(user_id, int):
            end_web_sessions(db, user_id)
        request.clear_session()
        return Redirect(LOGIN_PATH, status_code=303)
