"""The entitlement rule, checked by example and by property."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from syndication.licensing.entitlement import Verdict, decide

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class P:
    active: bool = True
    audience: int = 100_000
    sees_embargoed: bool = False
    sections: list[str] | None = None


@dataclass(frozen=True)
class A:
    status: str = "published"
    section: str = "politics"
    license: str = "free"
    published_at: datetime = T0 - timedelta(hours=1)
    embargo_until: datetime | None = None


@dataclass(frozen=True)
class L:
    code: str = "free"
    name: str = "Free"
    min_audience: int = 10_000
    window_days: int | None = None


def test_plain_case_is_entitled() -> None:
    assert decide(P(), {"free"}, A(), L(), T0).verdict is Verdict.ENTITLED


def test_reasons_name_the_numbers() -> None:
    d = decide(P(audience=5_000), {"free"}, A(), L(min_audience=100_000), T0)
    assert d.verdict is Verdict.NOT_ENTITLED
    assert "5,000" in d.reason and "100,000" in d.reason
    d = decide(P(), {"free"}, A(embargo_until=T0 + timedelta(hours=2)), L(), T0)
    assert d.verdict is Verdict.EMBARGOED and "embargoed until 26 Nov 2026 14:00 UTC" in d.reason
    d = decide(P(), {"free"}, A(published_at=T0 - timedelta(days=3)), L(window_days=2), T0)
    assert d.verdict is Verdict.EXPIRED and "window closed on 25 Nov 2026 12:00 UTC" in d.reason


def test_each_refusal() -> None:
    assert decide(P(active=False), {"free"}, A(), L(), T0).verdict is Verdict.NOT_ENTITLED
    assert decide(P(), {"other"}, A(), L(), T0).verdict is Verdict.NOT_ENTITLED
    assert decide(P(sections=["sport"]), {"free"}, A(), L(), T0).verdict is Verdict.NOT_ENTITLED
    assert decide(P(), {"free"}, A(status="withdrawn"), L(), T0).verdict is Verdict.WITHDRAWN


def test_trusted_partner_sees_embargoed_piece_marked() -> None:
    until = T0 + timedelta(hours=2)
    d = decide(P(sees_embargoed=True), {"free"}, A(embargo_until=until), L(), T0)
    assert d.verdict is Verdict.ENTITLED and d.embargoed_until == until and d.changes_at == until


def test_future_publication_counts_as_embargo() -> None:
    d = decide(P(), {"free"}, A(published_at=T0 + timedelta(minutes=5)), L(), T0)
    assert d.verdict is Verdict.EMBARGOED


partners = st.builds(
    P,
    active=st.booleans(),
    audience=st.integers(0, 10**7),
    sees_embargoed=st.booleans(),
    sections=st.none() | st.lists(st.sampled_from(["politics", "sport", "health"]), max_size=3),
)
offsets = st.integers(-(10**6), 10**6).map(lambda s: timedelta(seconds=s))
articles = st.builds(
    A,
    status=st.sampled_from(["published", "withdrawn"]),
    section=st.sampled_from(["politics", "sport", "health"]),
    license=st.sampled_from(["free", "paid"]),
    published_at=offsets.map(lambda d: T0 + d),
    embargo_until=st.none() | offsets.map(lambda d: T0 + d),
)
licenses = st.builds(
    L,
    code=st.sampled_from(["free", "paid"]),
    min_audience=st.integers(0, 10**7),
    window_days=st.none() | st.integers(1, 30),
)
grants = st.sets(st.sampled_from(["free", "paid"]))


@given(partners, grants, articles, licenses, offsets)
def test_withdrawn_is_never_entitled(p: P, g: set, a: A, lic: L, d: timedelta) -> None:
    a = replace(a, status="withdrawn")
    assert not decide(p, g, a, lic, T0 + d).entitled


@given(partners, grants, articles, licenses, offsets)
def test_without_the_license_never_entitled(p: P, g: set, a: A, lic: L, d: timedelta) -> None:
    assert not decide(p, g - {a.license}, a, lic, T0 + d).entitled


@given(partners, grants, articles, licenses, offsets)
def test_below_audience_or_inactive_never_entitled(
    p: P, g: set, a: A, lic: L, d: timedelta
) -> None:
    assert not decide(replace(p, active=False), g, a, lic, T0 + d).entitled
    if lic.min_audience > 0:
        poor = replace(p, audience=lic.min_audience - 1)
        assert not decide(poor, g, a, lic, T0 + d).entitled


@given(partners, grants, articles, licenses, offsets, st.integers(1, 10**7))
def test_time_only_lifts_embargoes_forward(
    p: P, g: set, a: A, lic: L, d: timedelta, later: int
) -> None:
    before = decide(p, g, a, lic, T0 + d)
    after = decide(p, g, a, lic, T0 + d + timedelta(seconds=later))
    if before.verdict is Verdict.EMBARGOED:
        assert after.verdict in {Verdict.EMBARGOED, Verdict.ENTITLED, Verdict.EXPIRED}
    if before.verdict is Verdict.EXPIRED:
        assert after.verdict is Verdict.EXPIRED
    if before.verdict in {Verdict.NOT_ENTITLED, Verdict.WITHDRAWN}:
        assert after.verdict is before.verdict


@given(partners, grants, articles, licenses, offsets)
def test_changes_at_is_when_the_answer_moves(p: P, g: set, a: A, lic: L, d: timedelta) -> None:
    now = T0 + d
    decision = decide(p, g, a, lic, now)
    if decision.changes_at is not None:
        assert decision.changes_at > now
        just_before = decide(p, g, a, lic, decision.changes_at - timedelta(microseconds=1))
        assert just_before == decision
        assert decide(p, g, a, lic, decision.changes_at) != decision
