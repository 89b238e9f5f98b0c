"""The IPTC ninjs 2.2 validator, with GeoJSON registered locally so nothing is fetched."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent / "schemas"


@lru_cache(maxsize=1)
def ninjs_validator() -> Draft202012Validator:
    ninjs = json.loads((SCHEMAS / "ninjs-schema_2.2.json").read_text())
    geojson = json.loads((SCHEMAS / "GeoJSON-schema.json").read_text())
    registry: Registry = Registry().with_resources(
        [(geojson["$id"], Resource.from_contents(geojson))]
    )
    return Draft202012Validator(ninjs, registry=registry, format_checker=FormatChecker())


def ninjs_errors(item: object) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in ninjs_validator().iter_errors(item)
    ]
