"""Partners: list, create, edit; keys (issued once, listed, revoked); the entitlement view."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from syndication.errors import Conflict, Invalid
from syndication.licensing.service import list_licenses
from syndication.partners import service
from syndication.partners.models import PartnerCreate, PartnerUpdate
from syndication.staff import forms
from syndication.staff.insight import entitlements
from syndication.staff.pages import AnyRequest, FormBody, StaffPages, done, form_page, page
from syndication.staff.web import UI_PREFIX

FormData = Annotated[dict[str, Any], FormBody]
FEEDS = (("Atom", "/feeds/atom.xml"), ("RSS", "/feeds/rss.xml"), ("JSON Feed", "/feeds/feed.json"))


class PartnerPages(StaffPages):
    path = f"{UI_PREFIX}/partners"

    @get("/", sync_to_thread=True)
    def list_partners(self, request: AnyRequest, db: Session) -> Template:
        partners = [service.to_public(db, p) for p in service.list_partners(db)]
        return page(request, "partners/list.html", partners=partners)

    def _form(self, request: AnyRequest, db: Session, state: forms.FormState, **ctx: Any) -> Any:
        return form_page(request, "partners/form.html", state, licenses=list_licenses(db), **ctx)

    @get("/new", sync_to_thread=True)
    def new_partner(self, request: AnyRequest, db: Session) -> Template:
        values = forms.partner_values({"active": "on", "audience": "0"})
        return self._form(request, db, forms.FormState(values), partner=None)

    @post("/new", sync_to_thread=True)
    def create_partner(self, request: AnyRequest, db: Session, data: FormData) -> Response[Any]:
        values = forms.partner_values(data)
        parsed = forms.parse(PartnerCreate, values, forms.partner_payload(values, creating=True))
        if parsed.model is not None:
            try:
                partner = service.create_partner(db, parsed.model)
                return done(request, f"{self.path}/{partner.slug}", "Partner created.")
            except (Invalid, Conflict) as exc:
                forms.refusal(parsed.state, exc)
        return self._form(request, db, parsed.state, partner=None)

    @get("/{slug:str}", sync_to_thread=True)
    def show_partner(self, request: AnyRequest, db: Session, slug: str) -> Template:
        partner = service.to_public(db, service.get_partner(db, slug))
        return page(
            request, "partners/show.html", partner=partner, keys=service.list_keys(db, slug)
        )

    @get("/{slug:str}/edit", sync_to_thread=True)
    def edit_partner(self, request: AnyRequest, db: Session, slug: str) -> Template:
        partner = service.to_public(db, service.get_partner(db, slug))
        values = forms.partner_form_values(partner, partner.licenses)
        return self._form(request, db, forms.FormState(values), partner=partner)

    @post("/{slug:str}/edit", sync_to_thread=True)
    def update_partner(
        self, request: AnyRequest, db: Session, slug: str, data: FormData
    ) -> Response[Any]:
        partner = service.get_partner(db, slug)
        values = {**forms.partner_values(data), "slug": slug}
        parsed = forms.parse(PartnerUpdate, values, forms.partner_payload(values, creating=False))
        if parsed.model is not None:
            try:
                service.update_partner(db, slug, parsed.model)
                return done(request, f"{self.path}/{slug}", "Partner saved.")
            except (Invalid, Conflict) as exc:
                forms.refusal(parsed.state, exc)
        return self._form(request, db, parsed.state, partner=partner)

    @post("/{slug:str}/keys", sync_to_thread=True)
    def issue_key(self, request: AnyRequest, db: Session, slug: str) -> Template:
        partner = service.get_partner(db, slug)
        issued = service.issue_key(db, slug)
        settings = request.app.state.settings
        feeds = [(name, settings.absolute(f"{path}?key={issued.key}")) for name, path in FEEDS]
        response = page(request, "partners/key.html", partner=partner, issued=issued, feeds=feeds)
        response.headers["Cache-Control"] = "no-store"  # the key is shown once, never cached
        return response

    @post("/{slug:str}/keys/{prefix:str}/revoke", sync_to_thread=True)
    def revoke_key(
        self, request: AnyRequest, db: Session, now: datetime, slug: str, prefix: str
    ) -> Response[Any]:
        service.revoke_key(db, slug, prefix, now)
        return done(request, f"{self.path}/{slug}", f"Key {prefix} revoked.")

    @get("/{slug:str}/entitlements", sync_to_thread=True)
    def entitlement_view(
        self, request: AnyRequest, db: Session, now: datetime, slug: str
    ) -> Template:
        partner = service.to_public(db, service.get_partner(db, slug))
        rows = entitlements(db, service.get_partner(db, slug), now)
        return page(request, "partners/entitlements.html", partner=partner, rows=rows, now=now)
