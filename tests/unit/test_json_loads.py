"""The SQLite engine's JSON decoder answers exactly what json.loads does."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndication.db import json_loads

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@given(values)
def test_what_json_dumps_writes_reads_back_as_json_loads_reads_it(value: object) -> None:
    text = json.dumps(value)
    assert json_loads(text) == json.loads(text)
    assert json_loads(json.dumps(value, ensure_ascii=False)) == json.loads(text)
    assert json_loads(text.encode()) == json.loads(text)  # psycopg hands over bytes


@pytest.mark.parametrize(
    "text",
    ["NaN", "[Infinity, -Infinity]", "[1e400]", '"\\ud800"', "123456789012345678901234567890"],
)
def test_what_msgspec_refuses_falls_back_to_json(text: str) -> None:
    expected = json.loads(text)
    assert repr(json_loads(text)) == repr(expected)  # NaN != NaN: compare the spelling
    assert repr(json_loads(text.encode())) == repr(expected)
