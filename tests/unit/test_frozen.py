"""quick_init: the same frozen dataclass behaviour with a cheaper constructor."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass
from typing import ClassVar

import pytest

from syndication.frozen import quick_init
from syndication.licensing.credit import CreditContext
from syndication.republish.view import Credit, Republication


@quick_init
@dataclass(frozen=True)
class Pair:
    name: str
    url: str | None


@dataclass(frozen=True)
class Reference:
    name: str
    url: str | None


def test_same_instance_as_the_generated_init() -> None:
    calls: list[tuple[tuple, dict]] = [
        (("a", "u"), {}),
        (("a",), {"url": None}),
        ((), {"url": "u", "name": "a"}),
    ]
    for args, kwargs in calls:
        quick, plain = Pair(*args, **kwargs), Reference(*args, **kwargs)  # type: ignore[arg-type]
        assert vars(quick) == vars(plain)
        assert repr(quick) == repr(plain).replace("Reference", "Pair")
    assert Pair("a", "u") == Pair("a", "u") and Pair("a", "u") != Pair("a", None)
    assert hash(Pair("a", "u")) == hash(Pair("a", "u"))
    assert dataclasses.replace(Pair("a", "u"), url=None) == Pair("a", None)
    assert pickle.loads(pickle.dumps(Pair("a", "u"))) == Pair("a", "u")


def test_still_frozen_and_strict_about_arguments() -> None:
    pair = Pair("a", "u")
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Pair("a")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Pair("a", "u", "x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Pair("a", link="u")  # type: ignore[call-arg]


def test_refuses_what_it_cannot_copy() -> None:
    with pytest.raises(TypeError):
        quick_init(dataclass(frozen=True)(type("D", (), {"__annotations__": {"a": int}, "a": 1})))
    with pytest.raises(TypeError):
        quick_init(dataclass(type("M", (), {"__annotations__": {"a": int}})))  # not frozen

    class WithClassVar:
        a: int
        kind: ClassVar[str] = "x"

    with pytest.raises(TypeError):
        quick_init(dataclass(frozen=True)(WithClassVar))


@pytest.mark.parametrize("cls", [Republication, Credit, CreditContext])
def test_applied_where_a_render_builds_many(cls: type) -> None:
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
    names = [f.name for f in dataclasses.fields(cls)]
    built = cls(*names)
    assert [getattr(built, n) for n in names] == names
