"""Shared fixtures: a real jupyter_server with the extension, and real kernels."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]

BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: sync Playwright keeps an event loop running in this thread
    for the rest of the session, and pytest-jupyter's async tests need their own."""
    items.sort(key=lambda item: BROWSER_TESTS in Path(str(item.fspath)).parents)
