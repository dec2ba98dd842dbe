"""ipyflow's frontend-checker, staleness, slicing and API tests, through the real server.

Each case is one ipyflow test (its name is in the case's ``origin``); the
mapping of ipyflow's states and calls onto ours is in MAPPING.md. A case
fails when any of its checks fails; the message lists every mismatch.
"""

from __future__ import annotations

import pytest

from . import ALL_CASES
from .cases import Case
from .harness import Runner


@pytest.mark.parametrize("case", [c.param() for c in ALL_CASES])
def test_ipyflow_case(case: Case, runner: Runner) -> None:
    outcome = runner.run(case)
    if outcome.mismatches:
        pytest.fail(f"{case.origin}:\n" + "\n".join(outcome.mismatches), pytrace=False)


def test_case_names_are_unique() -> None:
    names = [c.name for c in ALL_CASES]
    assert len(names) == len(set(names))
