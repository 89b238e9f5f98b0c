"""UTCDateTime's one-call result processors answer exactly what its process_result_value does
after the driver type's own processor: the same instant, always with datetime.UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from syndication.db import UTCDateTime

SQLITE, POSTGRES = sqlite.dialect(), postgresql.dialect()
ZONES = [None, UTC, ZoneInfo("Etc/UTC"), ZoneInfo("Europe/Berlin"), timezone(timedelta(hours=-5))]
moments = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.sampled_from(ZONES)
)


def _slow(dialect: object, value: object) -> object:
    """The TypeDecorator's default: the driver type's processor, then process_result_value."""
    column = UTCDateTime()
    driver = DateTime(timezone=True).dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[arg-type]
    return column.process_result_value(driver(value) if driver else value, dialect)  # type: ignore[arg-type]


def _fast(dialect: object, value: object) -> object:
    processor = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[arg-type]
    assert processor is not None
    return processor(value)


def _same(a: object, b: object) -> None:
    assert a == b and repr(a) == repr(b)  # the repr names the tzinfo: UTC, never a ZoneInfo
    assert a is None or a.tzinfo is UTC  # type: ignore[attr-defined]


@given(moments)
def test_postgresql_values(value: datetime) -> None:
    _same(_fast(POSTGRES, value), _slow(POSTGRES, value))


@given(moments)
def test_sqlite_text(value: datetime) -> None:
    # As SQLite keeps them (naive UTC, what process_bind_param writes), and with an offset.
    for text in (str(value.replace(tzinfo=None)), value.isoformat(" ")):
        _same(_fast(SQLITE, text), _slow(SQLITE, text))


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES])
def test_null(dialect: object) -> None:
    assert _fast(dialect, None) is None and _slow(dialect, None) is None
