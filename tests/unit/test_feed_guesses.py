"""feeds.service.Guesses: a worker's memory of each partner's licenses, as its scan reads
them, per pool. A guess only (build_feed checks it against what it reads)."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from syndication.feeds.service import Guesses, ScanLicense, _scan_facts


class Pool:  # any object that can be weakly referenced, as SQLAlchemy's pools are
    pass


GUESS = (ScanLicense("lic", 0, None),)


def test_a_guess_is_kept_per_pool_and_partner() -> None:
    guesses, one, other = Guesses(), Pool(), Pool()
    guesses.put(one, 1, GUESS)
    assert guesses.get(one, 1) == GUESS
    assert guesses.get(one, 2) is None and guesses.get(other, 1) is None


def test_a_pool_holds_at_most_so_many_partners_the_least_recently_used_goes_first() -> None:
    guesses, pool = Guesses(per_pool=2), Pool()
    for partner in (1, 2, 1, 3):  # 1 put again: 2 is the least recently used when 3 arrives
        guesses.put(pool, partner, GUESS)
    assert [guesses.get(pool, p) is not None for p in (1, 2, 3)] == [True, False, True]
    guesses.get(pool, 1)  # read: 3 is now the least recently used
    guesses.put(pool, 4, GUESS)
    assert [guesses.get(pool, p) is not None for p in (1, 3, 4)] == [True, False, True]


def test_a_pools_guesses_go_with_it() -> None:
    guesses, pool = Guesses(), Pool()
    guesses.put(pool, 1, GUESS)
    del pool
    gc.collect()
    assert not guesses._pools


def test_a_guess_keeps_only_what_the_scan_reads_in_code_order() -> None:
    one = SimpleNamespace(code="one", min_audience=5, window_days=30, terms="t" * 10_000)
    two = SimpleNamespace(code="two", min_audience=0, window_days=None, terms="")
    expected = (ScanLicense("one", 5, 30), ScanLicense("two", 0, None))
    assert _scan_facts({"two": two, "one": one}) == expected  # type: ignore[dict-item]
    assert _scan_facts({"one": one, "two": two}) == expected  # type: ignore[dict-item]
