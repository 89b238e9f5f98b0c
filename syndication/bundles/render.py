"""Pure renderers from a `BundleView` to the bundle's files, and the deterministic zip.

No Litestar, no session: every function here takes plain values and returns text or bytes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from syndication.bundles.view import FORMAT_VERSION, BundleView, LicenseTerms
from syndication.republish.render import environment
from syndication.republish.view import Republication

MANIFEST = "manifest.json"
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # the earliest time a zip entry can carry
_ZIP_END = datetime(2107, 12, 31, 23, 59, 58, tzinfo=UTC)
# Bundles are small and fetched once each: the fastest level costs ~20% in size, saves ~4x time.
ZIP_LEVEL = 1
_PLACEMENT = {"top": "at the top", "bottom": "at the bottom", "both": "at the top and the bottom"}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _json_bytes(value: Any) -> bytes:
    # msgspec (a Litestar dependency) indents in C; json.dumps(indent=...) is pure Python.
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def allowed_and_forbidden(terms: LicenseTerms) -> tuple[list[str], list[str]]:
    allowed = ["Republishing this piece with everything in article.html kept"]
    forbidden: list[str] = []
    modify = "Editing, shortening or otherwise modifying the piece"
    commercial = "Commercial use (selling the piece or putting it behind a paywall)"
    (allowed if terms.allows_modification else forbidden).append(modify)
    (allowed if terms.allows_commercial else forbidden).append(commercial)
    return allowed, forbidden


def required(piece: Republication, terms: LicenseTerms) -> list[str]:
    lines = [
        f"The credit line {_PLACEMENT.get(terms.credit_placement, 'as placed')} of the piece",
        "The byline, the source credits, the image credits and the correction notes",
        "The line naming the original with its link",
    ]
    if terms.requires_canonical:
        lines.append('<link rel="canonical"> to the original in the page head (head.html)')
    if terms.requires_pixel:
        lines.append("The tracking pixel at the end of article.html, unaltered")
    if terms.window_days is not None:
        closes = piece.published_at + timedelta(days=terms.window_days)
        lines.append(
            f"First republication within {terms.window_days} days of the original "
            f"(before {rfc3339(closes)})"
        )
    return lines


def terms_in_brief(view: BundleView) -> str:
    allowed, forbidden = allowed_and_forbidden(view.license)
    brief = [view.piece.credit_line, f"License: {view.license.name} <{view.license.url}>."]
    if view.license.summary:
        brief.append(view.license.summary)
    brief.append("Allowed: " + "; ".join(allowed) + ".")
    if forbidden:
        brief.append("Not allowed: " + "; ".join(forbidden) + ".")
    brief.append("Required: " + "; ".join(required(view.piece, view.license)) + ".")
    return " ".join(brief)


def render_html(view: BundleView) -> str:
    return view.html


def render_head(view: BundleView) -> str:
    template = environment().get_template("bundles/head.html")
    return template.render(piece=view.piece, license=view.license)


def render_license_txt(view: BundleView) -> str:
    allowed, forbidden = allowed_and_forbidden(view.license)
    template = environment().get_template("bundles/LICENSE.txt")
    return template.render(
        piece=view.piece,
        license=view.license,
        allowed=allowed,
        forbidden=forbidden or ["Nothing beyond the requirements below"],
        required=required(view.piece, view.license),
    )


def _pictures(piece: Republication) -> list[dict[str, Any]]:
    return [
        {
            "name": f"picture{n}",
            "uri": image.url,
            "type": "picture",
            "by": image.credit,
            "descriptions": [{"role": "caption", "value": image.caption}],
            "renditions": [{"name": "original", "href": image.url}],
        }
        for n, image in enumerate(piece.images, start=1)
    ]


def _related(piece: Republication) -> list[dict[str, Any]]:
    return [
        {
            "name": f"related{n}",
            "uri": link.url,
            "type": "text",
            "headlines": [{"value": link.title}],
            "altids": [{"role": "canonical", "value": link.url}],
        }
        for n, link in enumerate(piece.related, start=1)
    ]


def ninjs(view: BundleView, fragment: str) -> dict[str, Any]:
    """IPTC ninjs 2.2; the body is the fragment to paste, credits and pixel included."""
    piece = view.piece
    item: dict[str, Any] = {
        "uri": piece.uri,
        "type": "text",
        "representationtype": "full",
        "version": str(piece.revision),
        "firstcreated": rfc3339(view.first_created),
        "versioncreated": rfc3339(view.revision_time),
        "contentcreated": rfc3339(piece.published_at),
        "pubstatus": "canceled" if view.withdrawn else "usable",
        "headlines": [{"role": "main", "value": piece.headline}],
        "bodies": [{"role": "republication", "contenttype": "text/html", "value": fragment}],
        "copyrightholder": piece.copyright_holder,
        "copyrightnotice": f"Copyright {piece.published_at.year} {piece.copyright_holder}",
        "usageterms": terms_in_brief(view),
        "rightsinfo": {"linkedrights": view.license.url},
        "infosources": [
            {"name": c.name, **({"uri": c.url} if c.url else {})} for c in piece.source_credits
        ],
        "subjects": [{"name": piece.section, "rel": "section"}]
        + [{"name": tag, "rel": "tag"} for tag in piece.tags],
        "altids": [{"role": "canonical", "value": piece.canonical_url}],
        "associations": _pictures(piece) + _related(piece),
    }
    if piece.byline:
        item["by"] = piece.byline
    if piece.summary:
        item["descriptions"] = [
            {"role": "summary", "contenttype": "text/plain", "value": piece.summary}
        ]
    if piece.embargoed_until is not None:
        item["embargoed"] = rfc3339(piece.embargoed_until)
    return item


def render_ninjs(view: BundleView, fragment: str | None = None) -> bytes:
    return _json_bytes(ninjs(view, render_html(view) if fragment is None else fragment))


def render_manifest(view: BundleView, files: dict[str, bytes]) -> bytes:
    piece = view.piece
    return _json_bytes(
        {
            "format_version": FORMAT_VERSION,
            "piece": piece.slug,
            "uri": piece.uri,
            "revision": piece.revision,
            "revision_time": rfc3339(view.revision_time),
            "partner": piece.partner_slug,
            "license": view.license.code,
            "files": [
                {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                for name, data in files.items()
            ],
        }
    )


def bundle_files(view: BundleView) -> dict[str, bytes]:
    fragment = render_html(view)
    files = {
        "article.html": fragment.encode(),
        "head.html": render_head(view).encode(),
        "article.json": render_ninjs(view, fragment),
        "LICENSE.txt": render_license_txt(view).encode(),
    }
    return {**files, MANIFEST: render_manifest(view, files)}


def zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    clamped = min(max(moment.astimezone(UTC), _ZIP_EPOCH), _ZIP_END)
    return (clamped.year, clamped.month, clamped.day, clamped.hour, clamped.minute, clamped.second)


def assemble_zip(files: dict[str, bytes], moment: datetime) -> bytes:
    """Byte-identical for the same files and moment: fixed times, modes, order and origin."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=zip_time(moment))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compresslevel=ZIP_LEVEL)
    return out.getvalue()


def render_zip(view: BundleView) -> bytes:
    return assemble_zip(bundle_files(view), view.revision_time)


def render_json(view: BundleView) -> bytes:
    return render_ninjs(view)


def render_html_bytes(view: BundleView) -> bytes:
    return render_html(view).encode()


# A renderer is a media type plus a function; a new format is one more entry here.
RENDERERS: dict[str, tuple[str, Callable[[BundleView], bytes]]] = {
    "zip": ("application/zip", render_zip),
    "html": ("text/html; charset=utf-8", render_html_bytes),
    "json": ("application/json", render_json),
}
