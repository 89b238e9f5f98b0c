"""Credit-line templates: the SPEC's names only, rendered in a sandbox."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from jinja2 import TemplateError

from syndication.errors import Invalid
from syndication.licensing.credit import (
    CREDIT_VARIABLES,
    SAMPLE_CONTEXT,
    CreditContext,
    _env,
    check_template,
    render_credit_line,
)


def test_every_allowed_name_renders() -> None:
    source = (
        "{{ holder }}|{{ headline }}|{{ byline }}|{{ canonical_url }}|{{ license_name }}|"
        "{{ license_url }}|{{ contact_email }}|{{ partner_name }}"
    )
    assert check_template(source).split("|") == [
        SAMPLE_CONTEXT.holder,
        SAMPLE_CONTEXT.headline,
        SAMPLE_CONTEXT.byline,
        SAMPLE_CONTEXT.canonical_url,
        SAMPLE_CONTEXT.license_name,
        SAMPLE_CONTEXT.license_url,
        SAMPLE_CONTEXT.contact_email,
        SAMPLE_CONTEXT.partner_name,
    ]


@pytest.mark.parametrize(
    "source",
    [
        "{{ author }}",
        "{{ holder.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{% for x in range(10) %}{{ secret }}{% endfor %}",
        "{{ holder | nosuchfilter }}",
        "{{ holder",
        "{{ 1 / 0 }}",
        "",
        "x" * 3000,
        "{{ holder * 100000 }}",
    ],
)
def test_refusals_name_credit_line(source: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_template(source)
    assert refused.value.field == "credit_line"


def test_whitespace_is_folded_and_text_is_kept_verbatim() -> None:
    out = render_credit_line("By  {{ byline }}\n for <b>{{ holder }}</b>", SAMPLE_CONTEXT)
    assert out == f"By {SAMPLE_CONTEXT.byline} for <b>{SAMPLE_CONTEXT.holder}</b>"


_NAMES = sorted(CREDIT_VARIABLES)


@given(
    st.lists(
        st.text(max_size=12) | st.sampled_from(_NAMES).map(lambda name: f"{{{{ {name} }}}}"),
        max_size=8,
    ),
    st.lists(st.text(max_size=12), min_size=len(_NAMES), max_size=len(_NAMES)),
)
def test_plain_templates_render_exactly_as_the_sandbox_does(
    parts: list[str], values: list[str]
) -> None:
    source = "".join(parts)
    context = CreditContext(**dict(zip(_NAMES, values, strict=True)))
    try:
        expected = " ".join(_env.from_string(source).render(**vars(context)).split())
    except TemplateError:
        assume(False)
    assert render_credit_line(source, context) == expected
