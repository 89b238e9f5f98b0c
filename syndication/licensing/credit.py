"""Credit lines: license templates rendered in a Jinja2 sandbox with a fixed set of names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from syndication.errors import Invalid
from syndication.frozen import quick_init

CREDIT_VARIABLES = frozenset(
    {
        "holder",
        "headline",
        "byline",
        "canonical_url",
        "license_name",
        "license_url",
        "contact_email",
        "partner_name",
    }
)
MAX_TEMPLATE_CHARS = 2_000
MAX_RENDERED_CHARS = 4_000

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@quick_init
@dataclass(frozen=True)
class CreditContext:
    holder: str
    headline: str
    byline: str
    canonical_url: str
    license_name: str
    license_url: str
    contact_email: str
    partner_name: str


SAMPLE_CONTEXT = CreditContext(
    holder="The Example News Foundation",
    headline="Council approves the new budget",
    byline="Ana Example",
    canonical_url="https://news.example.org/2026/budget",
    license_name="Free for eligible publishers",
    license_url="https://news.example.org/republish",
    contact_email="licensing@example.org",
    partner_name="The Partner Gazette",
)


@lru_cache(maxsize=256)
def _compile(source: str) -> Callable[[CreditContext], str]:
    """Compiled once per template source. A template of plain text and allowed names only
    (the usual kind) becomes a format string; anything else renders through the sandbox."""
    plain = _format_string(_env.parse(source))
    if plain is not None:
        return lambda context: plain.format_map(vars(context))
    template = _env.from_string(source)
    return lambda context: template.render(**vars(context))


def _format_string(parsed: nodes.Template) -> str | None:
    """`{{ name }}` outputs as `{name}`, text with its braces doubled; None if anything else."""
    parts = []
    for node in parsed.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data.replace("{", "{{").replace("}", "}}"))
            elif isinstance(child, nodes.Name) and child.name in CREDIT_VARIABLES:
                parts.append(f"{{{child.name}}}")  # str.format, like Jinja, prints str(value)
            else:
                return None
    return "".join(parts)


def check_template(source: str) -> str:
    """Refuse a template that uses unknown names or does not render; answer a sample rendering."""
    if not source.strip():
        raise Invalid("the credit line must not be empty", field="credit_line")
    if len(source) > MAX_TEMPLATE_CHARS:
        raise Invalid(f"at most {MAX_TEMPLATE_CHARS} characters", field="credit_line")
    try:
        unknown = meta.find_undeclared_variables(_env.parse(source)) - CREDIT_VARIABLES
    except TemplateError as exc:
        raise Invalid(f"the template does not parse: {exc}", field="credit_line") from exc
    if unknown:
        allowed = ", ".join(sorted(CREDIT_VARIABLES))
        raise Invalid(
            f"unknown name(s) {', '.join(sorted(unknown))}; allowed: {allowed}",
            field="credit_line",
        )
    try:
        sample = render_credit_line(source, SAMPLE_CONTEXT)
    except Exception as exc:  # any failure of an author's template is a refusal, not a 500
        raise Invalid(f"the template does not render: {exc}", field="credit_line") from exc
    if len(sample) > MAX_RENDERED_CHARS:
        raise Invalid(f"renders to more than {MAX_RENDERED_CHARS} characters", field="credit_line")
    return sample


def render_credit_line(source: str, context: CreditContext) -> str:
    # vars(), not asdict(): the context is flat, and asdict deep-copies (a feed renders 50)
    return " ".join(_compile(source)(context).split())
