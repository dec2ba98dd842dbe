"""Every scenario of the tables, through the real server, judged by the restart-and-run-all oracle.

A scenario fails on a recall miss (a cell that had to re-run did not), on an
output that differs from restart-and-run-all, or when its session breaks off.
Extra runs only lower precision, which must stay >= 0.95 over the suite
(``test_precision_over_the_suite``, last); ``bench/precision.py`` prints both
measures and every miss and extra run.
"""

from __future__ import annotations

import pytest

from . import ALL_SCENARIOS
from .harness import Runner, measures
from .table import Scenario

PRECISION = 0.95


@pytest.mark.parametrize("scenario", [s.param() for s in ALL_SCENARIOS])
def test_scenario(scenario: Scenario, runner: Runner) -> None:
    outcome = runner.run(scenario)
    assert not outcome.defects(), "\n".join(outcome.defects())


def test_precision_over_the_suite(runner: Runner) -> None:
    outcomes = runner.outcomes
    if len(outcomes) < len(ALL_SCENARIOS) // 2:
        pytest.skip("precision is measured over the whole table")
    recall, precision, needed, ran, hits = measures(outcomes)
    extras = [f"{o.scenario.name}: {sorted(o.extras)}" for o in outcomes if o.extras]
    assert precision >= PRECISION, f"precision {precision:.3f} ({hits}/{ran}); extra runs:\n" + (
        "\n".join(extras)
    )
