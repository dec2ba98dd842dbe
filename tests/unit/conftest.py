"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from kernel_agent import load_ipython_extension
from kernel_agent.runtime.agent import Agent


@pytest.fixture
def agent() -> Iterator[Agent]:
    """The agent in a real IPython shell of this process (history in memory)."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell(config=config)
    yield load_ipython_extension(shell)
    shell.cleanup()
