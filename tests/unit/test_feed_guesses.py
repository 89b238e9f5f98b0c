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


def test_a_pool_holds_at_most_so_many_partners_the_oldest_put_goes_first() -> None:
    guesses, pool = Guesses(per_pool=2), Pool()
    for partner in (1, 2, 1, 3):  # 1 put again: 2 is the oldest when 3 arrives
        guesses.put(pool, partner, GUESS)
    assert [guesses.get(pool, p) is not None for p in (1, 2, 3)] == [True, False, True]


def test_a_pools_guesses_go_with_it() -> None:
    guesses, pool = Guesses(), Pool()
    guesses.put(pool, 1, GUESS)
    del pool
    gc.collect()
    assert not guesses._pools


def test_a_guess_keeps_only_what_the_scan_reads() -> None:
    license = SimpleNamespace(code="lic", min_audience=5, window_days=30, terms="t" * 10_000)
    assert _scan_facts({"lic": license}) == (ScanLicense("lic", 5, 30),)  # type: ignore[dict-item]
