"""The benchmarks' run order must not favour either server it compares."""

from __future__ import annotations

import itertools

from bench.common import interleaved


def test_three_servers_never_run_twice_in_a_row_and_the_pair_swaps() -> None:
    order = [name for _, name in interleaved(["stock", "cascade", "ipyflow"], 8)]
    assert all(a != b for a, b in itertools.pairwise(order))
    firsts = [order[i] for i in range(0, len(order), 3)]
    assert firsts.count("stock") == firsts.count("cascade") == 4


def test_two_servers_each_follow_themselves_equally_often() -> None:
    order = [name for _, name in interleaved(["stock", "cascade"], 8)]
    repeats = [b for a, b in itertools.pairwise(order) if a == b]
    assert repeats.count("cascade") > 0
    assert abs(repeats.count("stock") - repeats.count("cascade")) <= 1
