"""Pure parts of the staff UI: SVG charts, and forms to models and errors back to fields."""

from __future__ import annotations

from xml.etree import ElementTree

from syndication.articles.models import ArticleCreate
from syndication.errors import Conflict
from syndication.staff import forms
from syndication.staff.charts import grid, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_chart_is_well_formed_svg_with_a_titled_bar_per_value() -> None:
    chart = grid(
        "Usage",
        ["<Gazette>", "Courier"],
        ["feed pulls", "pixel hits"],
        [("<Gazette>", "feed pulls", 4), ("Courier", "pixel hits", 2)],
    )
    root = ElementTree.fromstring(render_svg(chart))
    assert root.find(f"{SVG}title").text == "Usage"
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    tips = [r.find(f"{SVG}title").text for r in bars]
    assert tips == [
        "<Gazette>, feed pulls: 4",
        "<Gazette>, pixel hits: 0",
        "Courier, feed pulls: 0",
        "Courier, pixel hits: 2",
    ]
    widths = [float(r.get("width")) for r in bars]
    assert widths[0] == max(widths) and widths[3] == widths[0] / 2 and widths[1] == 0


def test_empty_chart_says_so() -> None:
    chart = grid("Usage", [], ["feed pulls"], [])
    assert chart.empty and "No usage in this period." in render_svg(chart)


def test_rows_drop_blanks_and_renumber() -> None:
    form = {
        "images-3-url": "https://x.example/b.jpg",
        "images-0-url": "https://x.example/a.jpg",
        "images-1-url": "",
        "images-1-syndicate": "on",
        "images-0-syndicate": "on",
        "other-0-url": "x",
        "images-0-bogus": "y",
    }
    rows = forms.rows(form, "images", ("url", "syndicate"))
    assert rows == [
        {"url": "https://x.example/a.jpg", "syndicate": "on"},
        {"url": "https://x.example/b.jpg", "syndicate": ""},
    ]


def test_datetime_local_is_read_as_utc() -> None:
    assert forms.utc_input("2026-11-26T08:00") == "2026-11-26T08:00:00+00:00"
    assert forms.utc_input("2026-11-26T08:00:30") == "2026-11-26T08:00:30+00:00"
    assert forms.utc_input("2026-11-26T08:00+02:00") == "2026-11-26T08:00+02:00"
    assert forms.utc_input("") is None


def test_errors_map_to_the_field_names_of_the_form() -> None:
    values = forms.article_values(
        {"slug": "Bad Slug", "tags": "a, " + "x" * 200, "images-0-url": "nope"}
    )
    parsed = forms.parse(ArticleCreate, values, forms.article_payload(values, creating=True))
    assert parsed.model is None
    errors = parsed.state.errors
    assert "images-0-url" in errors and "slug" in errors
    # an item's error belongs to the one text field that holds them
    assert errors["tags"] == "at most 100 characters"
    assert errors["published_at"] == errors["headline"] == "required"


def test_a_service_refusal_lands_on_its_field_or_above_the_form() -> None:
    state = forms.FormState({"slug": "x"})
    forms.refusal(state, Conflict("taken", field="slug"))
    forms.refusal(state, Conflict("changed", field="If-Match"))
    assert state.errors == {"slug": "taken"} and state.general == ["changed"]
