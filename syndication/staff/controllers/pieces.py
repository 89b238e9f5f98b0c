"""Pieces: list and search, register and edit, preview for a partner, correct, withdraw."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Response, get, post
from litestar.params import Parameter, QueryParameter
from litestar.response import Template
from sqlalchemy.orm import Session

from syndication.articles import service
from syndication.articles.models import (
    ArticleCreate,
    ArticleUpdate,
    CorrectionCreate,
    WithdrawalCreate,
)
from syndication.errors import Conflict, Invalid, PreconditionFailed
from syndication.licensing.service import list_licenses
from syndication.partners.service import get_partner, list_partners
from syndication.staff import forms
from syndication.staff.insight import preview
from syndication.staff.pages import AnyRequest, FormBody, StaffPages, done, form_page, page
from syndication.staff.web import UI_PREFIX

PAGE_SIZE = 50
Refusal = (Invalid, Conflict, PreconditionFailed)
FormData = Annotated[dict[str, Any], FormBody]


def _extra_rows(data: dict[str, Any]) -> int:
    more = forms.first(data, "_action") == "more"
    return int(forms.first(data, "_extra") or forms.BLANK_ROWS) + (2 if more else 0)


class PiecePages(StaffPages):
    path = f"{UI_PREFIX}/pieces"

    @get("/", sync_to_thread=True)
    def list_pieces(
        self,
        request: AnyRequest,
        db: Session,
        now: datetime,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        status: Literal["published", "withdrawn", ""] = "",
        section: str = "",
        license: str = "",
        embargoed: bool = False,
        offset: Annotated[int, Parameter(ge=0)] = 0,
    ) -> Template:
        rows, total = service.list_articles(
            db,
            status=status or None,
            section=section or None,
            license=license or None,
            q=q or None,
            embargoed_at=now if embargoed else None,
            limit=PAGE_SIZE,
            offset=offset,
        )
        filters = {"q": q or "", "status": status, "section": section, "license": license,
                   "embargoed": embargoed}  # fmt: skip
        return page(
            request, "pieces/list.html", pieces=rows, total=total, offset=offset,
            page_size=PAGE_SIZE, filters=filters, licenses=list_licenses(db), now=now,
        )  # fmt: skip

    def _form(self, request: AnyRequest, db: Session, state: forms.FormState, **ctx: Any) -> Any:
        ctx.setdefault("extra", forms.BLANK_ROWS)
        return form_page(request, "pieces/form.html", state, licenses=list_licenses(db), **ctx)

    @get("/new", sync_to_thread=True)
    def new_piece(self, request: AnyRequest, db: Session) -> Template:
        blank = forms.article_values({})
        return self._form(request, db, forms.FormState(blank), article=None)

    @post("/new", sync_to_thread=True)
    def create_piece(self, request: AnyRequest, db: Session, data: FormData) -> Response[Any]:
        values, extra = forms.article_values(data), _extra_rows(data)
        if forms.first(data, "_action") == "more":
            return self._form(request, db, forms.FormState(values), article=None, extra=extra)
        parsed = forms.parse(ArticleCreate, values, forms.article_payload(values, creating=True))
        if parsed.model is not None:
            try:
                article = service.create_article(db, parsed.model)
                return done(request, f"{self.path}/{article.slug}", "Piece registered.")
            except Refusal as exc:
                forms.refusal(parsed.state, exc)
        return self._form(request, db, parsed.state, article=None, extra=extra)

    @get("/{slug:str}", sync_to_thread=True)
    def show_piece(
        self,
        request: AnyRequest,
        db: Session,
        now: datetime,
        slug: str,
        for_partner: Annotated[str, QueryParameter(name="partner", max_length=128)] = "",
    ) -> Template:
        return self._detail(request, db, now, slug, for_partner)

    def _detail(
        self, request: AnyRequest, db: Session, now: datetime, slug: str, partner: str,
        correction: forms.FormState | None = None,
    ) -> Template:  # fmt: skip
        article = service.get_article(db, slug)
        chosen = None
        if partner:
            settings = request.app.state.settings
            chosen = preview(db, settings, article, get_partner(db, partner), now)
        correction = correction or forms.FormState({"text": ""})
        return page(
            request, "pieces/show.html", 200 if correction.ok else 422, article=article,
            etag=service.etag_of(article), partners=list_partners(db), preview=chosen,
            correction=correction,
        )  # fmt: skip

    @get("/{slug:str}/edit", sync_to_thread=True)
    def edit_piece(self, request: AnyRequest, db: Session, slug: str) -> Template:
        article = service.get_article(db, slug)
        state = forms.FormState(forms.article_form_values(article))
        return self._form(request, db, state, article=article, etag=service.etag_of(article))

    @post("/{slug:str}/edit", sync_to_thread=True)
    def update_piece(
        self, request: AnyRequest, db: Session, now: datetime, slug: str, data: FormData
    ) -> Response[Any]:
        article = service.get_article(db, slug)
        values, extra = forms.article_values(data), _extra_rows(data)
        etag = forms.first(data, "_etag")
        values["slug"] = slug
        ctx = {"article": article, "etag": etag, "extra": extra}
        if forms.first(data, "_action") == "more":
            return self._form(request, db, forms.FormState(values), **ctx)
        parsed = forms.parse(ArticleUpdate, values, forms.article_payload(values, creating=False))
        if parsed.model is not None:
            try:
                service.update_article(db, slug, parsed.model, etag or None, now)
                return done(request, f"{self.path}/{slug}", "Piece saved.")
            except Refusal as exc:
                forms.refusal(parsed.state, exc)
        return self._form(request, db, parsed.state, **ctx)

    @post("/{slug:str}/corrections", sync_to_thread=True)
    def add_correction(
        self, request: AnyRequest, db: Session, now: datetime, slug: str, data: FormData
    ) -> Response[Any]:
        values = {"text": forms.first(data, "text")}
        parsed = forms.parse(CorrectionCreate, values, values)
        if parsed.model is not None:
            try:
                service.add_correction(db, slug, parsed.model.text, now)
                return done(request, f"{self.path}/{slug}", "Correction added.")
            except Refusal as exc:
                forms.refusal(parsed.state, exc)
        return self._detail(request, db, now, slug, "", correction=parsed.state)

    @get("/{slug:str}/withdraw", sync_to_thread=True)
    def confirm_withdrawal(self, request: AnyRequest, db: Session, slug: str) -> Template:
        article = service.get_article(db, slug)
        state = forms.FormState({"reason": "", "confirm": False})
        return form_page(request, "pieces/withdraw.html", state, article=article)

    @post("/{slug:str}/withdraw", sync_to_thread=True)
    def withdraw(
        self, request: AnyRequest, db: Session, now: datetime, slug: str, data: FormData
    ) -> Response[Any]:
        article = service.get_article(db, slug)
        values = {"reason": forms.first(data, "reason"), "confirm": forms.first(data, "confirm")}
        parsed = forms.parse(WithdrawalCreate, values, {"reason": values["reason"]})
        if values["confirm"] != "on":
            parsed.state.errors["confirm"] = "tick the box to confirm the withdrawal"
        if parsed.model is not None and parsed.state.ok:
            try:
                service.withdraw_article(db, slug, parsed.model.reason, now)
                return done(request, f"{self.path}/{slug}", "Piece withdrawn everywhere.")
            except Refusal as exc:
                forms.refusal(parsed.state, exc)
        return form_page(request, "pieces/withdraw.html", parsed.state, article=article)
