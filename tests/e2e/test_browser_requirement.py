"""Without chromium the browser tests skip, unless CI demands them (then they fail)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import _no_browser


def test_skips_without_the_requirement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNDICATION_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install Debian's chromium"):
        _no_browser("/usr/bin/chromium is not installed")


def test_fails_when_the_browser_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATION_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="SYNDICATION_REQUIRE_BROWSER=1 requires"):
        _no_browser("/usr/bin/chromium is not installed")
