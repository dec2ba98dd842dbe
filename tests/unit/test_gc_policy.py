"""The heap freezer (server_ext.gc_policy) holds the event loop no longer than the freeze."""

from __future__ import annotations

import gc
import logging

import pytest

from server_ext.gc_policy import MIN_INTERVAL, Freezer


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """gc's calls, recorded instead of made (a test must not freeze its own heap)."""
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda generation=2: calls.append(f"collect {generation}"))

    def count() -> int:
        calls.append("count")  # walks every frozen object: 25-160 ms at 3,000 cells
        return 7

    monkeypatch.setattr(gc, "get_freeze_count", count)
    return calls


def test_a_freeze_never_counts_the_frozen_objects(
    counted: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """jupyter_server's logger takes debug records (its handler drops them): a count
    for a debug message would be paid on every freeze."""
    freezer = Freezer(True, logging.getLogger("test-freezer"))
    with caplog.at_level(logging.DEBUG, logger="test-freezer"):
        freezer.after_long_lived(100.0)
        assert counted == ["collect 1", "freeze"]
        freezer.after_long_lived(100.0 + MIN_INTERVAL / 2)  # too soon: nothing
        assert counted == ["collect 1", "freeze"]
        freezer.after_long_lived(100.0 + MIN_INTERVAL)
        freezer.after_start()
    assert counted[2:] == ["collect 1", "freeze", "collect 2", "freeze"]
    assert "kept out of full collections" in caplog.text


def test_a_disabled_freezer_does_nothing(counted: list[str]) -> None:
    freezer = Freezer(False, logging.getLogger("test-freezer"))
    freezer.after_start()
    freezer.after_long_lived(100.0)
    assert counted == []
