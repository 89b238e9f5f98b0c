"""The body sanitiser keeps article markup and drops anything executable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syndication.articles.sanitize import nesting_depth, sanitize_html


def test_keeps_ordinary_markup() -> None:
    html = (
        '<h2>Sub</h2><p>A <strong>b</strong> <em>c</em> <a href="https://x.org/">d</a></p>'
        "<blockquote>q</blockquote><ul><li>i</li></ul>"
        '<figure><img src="https://x.org/a.jpg" alt="a"><figcaption>c</figcaption></figure>'
    )
    out = sanitize_html(html)
    for kept in ("<h2>", "<strong>", "<em>", 'href="https://x.org/"', "<blockquote>", "<li>",
                 'src="https://x.org/a.jpg"', "<figcaption>"):  # fmt: skip
        assert kept in out


def test_drops_scripts_handlers_and_javascript_urls() -> None:
    out = sanitize_html(
        '<p onclick="evil()">x</p><script>alert(1)</script><a href="javascript:alert(1)">y</a>'
        '<img src=x onerror=alert(1)><svg onload=alert(1)></svg><iframe src="https://e.x"></iframe>'
        '<style>p{}</style><a href="JaVaScRiPt:alert(1)">z</a>'
    )
    lowered = out.lower()
    for gone in ("onclick", "<script", "javascript:", "onerror", "<svg", "onload", "<iframe",
                 "<style"):  # fmt: skip
        assert gone not in lowered


def test_strips_xml_invalid_characters() -> None:
    assert sanitize_html("<p>a\x00b\x0bc\x1fd</p>") == "<p>abcd</p>"


@given(st.text(max_size=300))
def test_no_script_survives_any_input(text: str) -> None:
    out = sanitize_html(f"<p>{text}</p><script>{text}</script><a href='javascript:{text}'>l</a>")
    assert "<script" not in out.lower()
    assert 'href="javascript' not in out.lower()


def test_nesting_depth_counts_elements_not_void_ones() -> None:
    assert nesting_depth("<p>a<br>b<img src='x'></p>") == 1
    html = sanitize_html("<table><tr><td>" * 40 + "x" + "</td></tr></table>" * 40)
    assert nesting_depth(html) == 160  # table, tbody, tr, td per level
    assert nesting_depth("<p>1 &lt; 2 &gt; 1</p><p><em>a</em></p>") == 2
