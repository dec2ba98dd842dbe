"""One real server for the corpus module; every selected notebook is queued at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scenarios.server import ScenarioServer

from .play import Case, Runner, table

#: the runners of this session, for the summary table at the end
RUNNERS: list[Runner] = []


@pytest.fixture(scope="module")
def corpus_runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    server = ScenarioServer()
    server.env["MPLBACKEND"] = "Agg"
    server.start()
    runner = Runner(server)
    RUNNERS.append(runner)
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")  # type: ignore[attr-defined]
    ]
    runner.prefetch(c for c in selected if isinstance(c, Case))
    try:
        yield runner
    finally:
        runner.close()
        server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    outcomes = [o for runner in RUNNERS for o in runner.outcomes]
    if outcomes:
        terminalreporter.write_sep("=", "real notebooks through the server")
        for line in table(outcomes).splitlines():
            terminalreporter.write_line(line)
        terminalreporter.write_sep("-", "re-runs after the edit")
        for outcome in outcomes:
            details = outcome.edit_details()
            if details:
                terminalreporter.write_line(details)
