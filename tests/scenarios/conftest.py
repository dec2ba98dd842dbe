"""One real server for the module; each scenario gets its own notebook and kernel session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Runner
from .server import ScenarioServer
from .table import Scenario


@pytest.fixture(scope="module")
def runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """The module's server; every selected scenario is queued at once, in test order."""
    server = ScenarioServer().start()
    scenario_runner = Runner(server)
    selected = [
        item.callspec.params["scenario"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    ]
    scenario_runner.prefetch(s for s in selected if isinstance(s, Scenario))
    try:
        yield scenario_runner
    finally:
        scenario_runner.close()
        server.stop()
