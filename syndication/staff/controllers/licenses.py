"""Licenses: list, create, edit; the credit-line template is checked and previewed."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from syndication.errors import Conflict, Invalid
from syndication.licensing import service
from syndication.licensing.credit import SAMPLE_CONTEXT, check_template
from syndication.licensing.models import LicenseCreate, LicenseUpdate
from syndication.staff import forms
from syndication.staff.pages import AnyRequest, FormBody, StaffPages, done, form_page, page
from syndication.staff.web import UI_PREFIX

FormData = Annotated[dict[str, Any], FormBody]


def _sample(source: str, state: forms.FormState) -> str | None:
    """The credit line rendered with sample values, or its error beside the field."""
    if not source:
        return None
    try:
        return check_template(source)
    except Invalid as exc:
        state.errors.setdefault("credit_line", exc.detail)
        return None


class LicensePages(StaffPages):
    path = f"{UI_PREFIX}/licenses"

    @get("/", sync_to_thread=True)
    def list_licenses(self, request: AnyRequest, db: Session) -> Template:
        return page(request, "licenses/list.html", licenses=service.list_licenses(db))

    def _form(self, request: AnyRequest, state: forms.FormState, **ctx: Any) -> Template:
        sample = _sample(str(state.values.get("credit_line", "")), state)
        return form_page(
            request, "licenses/form.html", state, sample=sample,
            sample_values=asdict(SAMPLE_CONTEXT), **ctx,
        )  # fmt: skip

    @get("/new", sync_to_thread=False)
    def new_license(self, request: AnyRequest) -> Template:
        values = forms.license_values({"requires_canonical": "on", "min_audience": "0"})
        values["credit_placement"] = "bottom"
        return self._form(request, forms.FormState(values), license=None)

    @post("/new", sync_to_thread=True)
    def create_license(self, request: AnyRequest, db: Session, data: FormData) -> Response[Any]:
        values = forms.license_values(data)
        if forms.first(data, "_action") == "preview":
            return self._form(request, forms.FormState(values), license=None)
        parsed = forms.parse(LicenseCreate, values, forms.license_payload(values, creating=True))
        if parsed.model is not None:
            try:
                license = service.create_license(db, parsed.model)
                return done(request, self.path + "/", f"License {license.code} created.")
            except (Invalid, Conflict) as exc:
                forms.refusal(parsed.state, exc)
        return self._form(request, parsed.state, license=None)

    @get("/{code:str}/edit", sync_to_thread=True)
    def edit_license(self, request: AnyRequest, db: Session, code: str) -> Template:
        license = service.get_license(db, code)
        state = forms.FormState(forms.license_form_values(license))
        return self._form(request, state, license=license)

    @post("/{code:str}/edit", sync_to_thread=True)
    def update_license(
        self, request: AnyRequest, db: Session, code: str, data: FormData
    ) -> Response[Any]:
        license = service.get_license(db, code)
        values = {**forms.license_values(data), "code": code}
        if forms.first(data, "_action") == "preview":
            return self._form(request, forms.FormState(values), license=license)
        parsed = forms.parse(LicenseUpdate, values, forms.license_payload(values, creating=False))
        if parsed.model is not None:
            try:
                service.update_license(db, code, parsed.model)
                return done(request, self.path + "/", f"License {code} saved.")
            except (Invalid, Conflict) as exc:
                forms.refusal(parsed.state, exc)
        return self._form(request, parsed.state, license=license)
