"""Analyses in a worker thread hand the GIL over to the event loop's thread often
(server_ext.predict._sliced): else each of the loop's system calls waits for the
GIL up to the interpreter's switch interval (5 ms)."""

from __future__ import annotations

import pytest

from server_ext import predict


def test_a_worker_hands_the_gil_over_every_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    clock, sleeps = [0.0], []
    monkeypatch.setattr(predict.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(predict.time, "sleep", sleeps.append)
    seen = []
    for item in predict._sliced(range(10)):
        seen.append(item)
        clock[0] += predict.SLICE / 4  # each item takes a quarter of a slice
    assert seen == list(range(10))
    assert sleeps == [0, 0]  # after items 3 and 7: one hand-over per slice of work


def test_sliced_analyses_are_the_analyses() -> None:
    sources = ["x = 1", "def f(a):\n    return a + x", "y = f(2)", "%time z = y", "1 +"]
    analyses = predict.analyse_sources(sources)
    assert list(analyses) == sources
    assert all(analyses[s] == predict.analyse_source(s) for s in sources)
    summaries = predict.function_summaries(analyses.values())
    assert predict.close_all(analyses, summaries) == {
        s: predict.effects_of(a, summaries) for s, a in analyses.items()
    }
