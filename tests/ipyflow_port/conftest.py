"""One real server for the module; every case gets its own notebook and kernel session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scenarios.server import ScenarioServer

from .cases import Case
from .harness import Runner


@pytest.fixture(scope="module")
def runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """The module's server; every selected case is queued at once, in test order."""
    server = ScenarioServer().start()
    case_runner = Runner(server)
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    ]
    case_runner.prefetch(c for c in selected if isinstance(c, Case))
    try:
        yield case_runner
    finally:
        case_runner.close()
        server.stop()
