"""The compliance verdict for one page, from plain HTML strings."""

from __future__ import annotations

import dataclasses

import pytest

from syndication.accountability.assess import Expected, assess, normalise, same_url, similarity

CANONICAL = "https://news.example.org/2026/council-budget"
PIXEL = "https://syndication.example.org/px/abc123.gif"
CREDIT = "Content created by The Example News Foundation is available without charge."
BODY = (
    "<p>The council approved the budget on Tuesday after a long debate about schools, "
    "roads and the new library.</p><p>Seven members voted for it and two against.</p>"
)
EXPECTED = Expected(
    credit_line=CREDIT,
    canonical_url=CANONICAL,
    requires_canonical=True,
    pixel_url=PIXEL,
    body_html=BODY,
    allows_modification=False,
)


def page(
    body: str = BODY, credit: str = CREDIT, link: str = CANONICAL, head: str | None = None,
    pixel: str = PIXEL,
) -> str:  # fmt: skip
    head = f'<link rel="canonical" href="{CANONICAL}">' if head is None else head
    pixel_tag = f'<img src="{pixel}" width="1" height="1">' if pixel else ""
    return (
        f"<html><head>{head}<script>var ad = 1;</script></head><body><nav>Menu</nav>"
        f'<article>{body}<p>Originally at <a href="{link}">{link}</a>.</p>'
        f"<p>{credit}</p>{pixel_tag}</article></body></html>"
    )


def test_compliant_page() -> None:
    verdict = assess(page(), EXPECTED)
    assert verdict.verdict == "compliant" and verdict.failures == ()
    assert verdict.similarity == 1.0 and verdict.altered is False


def test_credit_line_removed() -> None:
    verdict = assess(page(credit="Republished with permission."), EXPECTED)
    assert verdict.credit_line is False
    assert verdict.failures == ("credit_line",)


def test_credit_line_matches_after_normalising() -> None:
    squeezed = "CONTENT  created by\n the Example News Foundation is available  without charge."
    assert assess(page(credit=squeezed), EXPECTED).credit_line
    curly = dataclasses.replace(EXPECTED, credit_line="It\u2019s \u201cours\u201d.")
    assert assess(page(credit='It\'s "ours".'), curly).credit_line


def test_canonical_link_missing_or_elsewhere() -> None:
    verdict = assess(page(link="https://elsewhere.example.com/copy"), EXPECTED)
    assert verdict.canonical_link is False and "canonical_link" in verdict.failures
    assert assess(page(link=CANONICAL + "/"), EXPECTED).canonical_link  # trailing slash is fine


def test_rel_canonical_only_when_required() -> None:
    assert assess(page(head=""), EXPECTED).rel_canonical is False
    relaxed = dataclasses.replace(EXPECTED, requires_canonical=False)
    verdict = assess(page(head=""), relaxed)
    assert verdict.rel_canonical is None and verdict.verdict == "compliant"


def test_pixel_missing_or_not_required() -> None:
    verdict = assess(page(pixel=""), EXPECTED)
    assert verdict.pixel is False and verdict.failures == ("pixel",)
    other = assess(page(pixel="https://syndication.example.org/px/zzz.gif"), EXPECTED)
    assert other.pixel is False
    assert assess(page(pixel=""), dataclasses.replace(EXPECTED, pixel_url=None)).pixel is None


def test_altered_body() -> None:
    altered = BODY.replace("approved", "rejected").replace("two against", "none against")
    verdict = assess(page(body=altered), EXPECTED)
    assert verdict.altered is True and verdict.similarity is not None
    assert verdict.similarity < 0.9
    assert "unaltered" in verdict.failures


def test_modification_allowed_skips_similarity() -> None:
    allowed = dataclasses.replace(EXPECTED, allows_modification=True)
    verdict = assess(page(body="<p>Our own summary.</p>"), allowed)
    assert verdict.similarity is None and verdict.altered is None


def test_scripts_do_not_count_as_text() -> None:
    hidden = page(credit="").replace("var ad = 1;", CREDIT)
    assert assess(hidden, EXPECTED).credit_line is False


@pytest.mark.parametrize("html", ["", "not html at all", "<html><body></body>"])
def test_odd_pages_do_not_crash(html: str) -> None:
    assert assess(html, EXPECTED).verdict == "non-compliant"


def test_similarity_and_helpers() -> None:
    assert similarity("one two three four five six", "zero one two three four five six") == 1.0
    assert similarity("one two three four five six", "one two three four five") == 0.5
    assert similarity("", "anything") == 1.0
    assert normalise("  A\u00a0B  ") == "a b"
    assert same_url("HTTPS://News.Example.org/a/", "https://news.example.org/a")
    assert not same_url("javascript:alert(1)", "https://news.example.org/a")
