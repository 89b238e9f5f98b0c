"""HTML forms to the API's own models, and their errors back to the fields that caused them.

A form is a flat mapping of names to strings. Repeatable rows are named `<group>-<n>-<field>`
(`images-0-url`); empty rows are dropped and the rest renumbered, so an error at
`("images", 1, "url")` belongs to the field `images-1-url` of the form as re-rendered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from syndication.errors import DomainError

M = TypeVar("M", bound=BaseModel)
ROW_KEY = re.compile(r"^(?P<group>[a-z_]+)-(?P<index>\d{1,3})-(?P<field>[a-z_]+)$")
BLANK_ROWS = 2

ARTICLE_ROWS: dict[str, tuple[str, ...]] = {
    "source_credits": ("name", "url"),
    "related": ("title", "url"),
    "images": ("url", "caption", "credit", "syndicate"),
}
ARTICLE_FIELDS = ("slug", "headline", "summary", "body_html", "byline", "section", "tags",
                  "canonical_url", "copyright_holder", "published_at", "embargo_until",
                  "license")  # fmt: skip
LICENSE_FIELDS = ("code", "name", "url", "summary", "terms", "credit_line", "contact_email",
                  "min_audience", "window_days", "credit_placement")  # fmt: skip
LICENSE_FLAGS = ("allows_modification", "allows_commercial", "requires_canonical", "requires_pixel")
PARTNER_FIELDS = ("slug", "name", "homepage", "contact_email", "audience", "sections")
PARTNER_FLAGS = ("sees_embargoed", "active")


@dataclass
class FormState:
    """What a form page needs to (re)draw itself: the values as typed and the errors."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general


@dataclass
class Parsed(Generic[M]):
    model: M | None
    state: FormState


def first(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def all_of(form: Mapping[str, Any], name: str) -> list[str]:
    value = form.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def rows(form: Mapping[str, Any], group: str, fields: Sequence[str]) -> list[dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for key in form:
        match = ROW_KEY.match(key)
        if match and match["group"] == group and match["field"] in fields:
            found.setdefault(int(match["index"]), {})[match["field"]] = first(form, key)
    kept = []
    for index in sorted(found):
        row = {name: found[index].get(name, "") for name in fields}
        if any(value for name, value in row.items() if name != "syndicate"):
            kept.append(row)
    return kept


def utc_input(value: str) -> str | None:
    """A `datetime-local` value is read as UTC (the form says so); an explicit offset is kept."""
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?", value):
        return value + ("" if value.count(":") == 2 else ":00") + "+00:00"
    return value


def local_value(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""


def article_values(form: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: first(form, name) for name in ARTICLE_FIELDS}
    for group, fields in ARTICLE_ROWS.items():
        values[group] = rows(form, group, fields)
    return values


def article_payload(values: Mapping[str, Any], creating: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        name: values[name] for name in ARTICLE_FIELDS if name != "slug" or creating
    }
    payload["tags"] = [t.strip() for t in values["tags"].split(",") if t.strip()]
    payload["published_at"] = utc_input(values["published_at"])
    payload["embargo_until"] = utc_input(values["embargo_until"])
    if creating and payload["published_at"] is None:
        del payload["published_at"]  # "Field required" beside the field
    payload["source_credits"] = [
        {"name": r["name"], "url": r["url"] or None} for r in values["source_credits"]
    ]
    payload["related"] = values["related"]
    payload["images"] = [{**r, "syndicate": r["syndicate"] == "on"} for r in values["images"]]
    return payload


def _number(value: str) -> str | None:
    return value.replace(",", "").replace("_", "").strip() or None


def license_values(form: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: first(form, name) for name in LICENSE_FIELDS}
    values.update({flag: first(form, flag) == "on" for flag in LICENSE_FLAGS})
    return values


def license_payload(values: Mapping[str, Any], creating: bool) -> dict[str, Any]:
    payload = {k: v for k, v in values.items() if k != "code" or creating}
    payload["min_audience"] = _number(values["min_audience"]) or 0
    payload["window_days"] = _number(values["window_days"])
    return payload


def partner_values(form: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: first(form, name) for name in PARTNER_FIELDS}
    values.update({flag: first(form, flag) == "on" for flag in PARTNER_FLAGS})
    values["licenses"] = all_of(form, "licenses")
    return values


def partner_payload(values: Mapping[str, Any], creating: bool) -> dict[str, Any]:
    payload = {k: v for k, v in values.items() if k != "slug" or creating}
    payload["homepage"] = values["homepage"] or None
    payload["contact_email"] = values["contact_email"] or None
    payload["audience"] = _number(values["audience"]) or 0
    sections = [s.strip() for s in values["sections"].split(",") if s.strip()]
    payload["sections"] = sections or None
    return payload


def field_name(loc: Sequence[int | str]) -> str:
    return "-".join(str(part) for part in loc) or "form"


def _message(item: Any) -> str:
    """Pydantic's wording, in a desk editor's words where it reads oddly for a text box."""
    kind, given, ctx = item["type"], item.get("input"), item.get("ctx") or {}
    if kind == "missing" or (given == "" and kind in ("too_short", "string_too_short")):
        return "required"
    if isinstance(given, str) and kind in ("too_long", "string_too_long"):
        return f"at most {ctx.get('max_length')} characters"
    if kind in ("int_parsing", "int_type"):
        return "must be a whole number"
    return str(item["msg"]).removeprefix("Value error, ")


def validation_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in exc.errors():
        errors.setdefault(field_name(item["loc"]), _message(item))
    return errors


def parse(model: type[M], values: dict[str, Any], payload: dict[str, Any]) -> Parsed[M]:
    try:
        return Parsed(model.model_validate(payload), FormState(values))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for name, message in validation_errors(exc).items():
            top = name.split("-", 1)[0]
            # A plain field typed as one string (tags, sections) owns its items' errors.
            errors.setdefault(top if isinstance(values.get(top), str) else name, message)
        return Parsed(None, FormState(values, errors))


def refusal(state: FormState, exc: DomainError) -> FormState:
    """A service's refusal (Invalid, Conflict, ...) beside its field, or above the form."""
    if exc.field and exc.field in state.values:
        state.errors[exc.field] = exc.detail
    else:
        state.general.append(exc.detail)
    return state


def article_form_values(article: Any) -> dict[str, Any]:
    """An existing piece in the shape the piece form posts."""
    values: dict[str, Any] = {name: getattr(article, name) or "" for name in ARTICLE_FIELDS}
    values["tags"] = ", ".join(article.tags)
    values["published_at"] = local_value(article.published_at)
    values["embargo_until"] = local_value(article.embargo_until)
    values["source_credits"] = [
        {"name": c["name"], "url": c.get("url") or ""} for c in article.source_credits
    ]
    values["related"] = [dict(r) for r in article.related]
    values["images"] = [
        {**i, "syndicate": "on" if i.get("syndicate", True) else ""} for i in article.images
    ]
    return values


def license_form_values(license: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(license, name) for name in LICENSE_FIELDS}
    values["min_audience"] = str(license.min_audience)
    values["window_days"] = "" if license.window_days is None else str(license.window_days)
    values.update({flag: getattr(license, flag) for flag in LICENSE_FLAGS})
    return values


def partner_form_values(partner: Any, licenses: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(partner, name) or "" for name in PARTNER_FIELDS}
    values["audience"] = str(partner.audience)
    values["sections"] = ", ".join(partner.sections or [])
    values.update({flag: getattr(partner, flag) for flag in PARTNER_FLAGS})
    values["licenses"] = licenses
    return values
