"""ipyflow's frontend-checker, staleness, slicing and API tests, through the real server.

Each case is one ipyflow test (its name is in the case's ``origin``); the
mapping of ipyflow's states and calls onto ours is in MAPPING.md. A case
fails when any of its checks fails; the message lists every mismatch.
"""

from __future__ import annotations

from pathlib import Path

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


def test_differences_are_documented() -> None:
    """Every difference on purpose is in docs/semantics.md §8; every gap in MAPPING.md."""
    root = Path(__file__).resolve().parents[2]
    semantics = (root / "docs" / "semantics.md").read_text()
    section = semantics.split("## 8. Where we differ from ipyflow on purpose", 1)[1]
    mapping = (Path(__file__).parent / "MAPPING.md").read_text()
    gaps = mapping.split("## Known gaps", 1)[1].split("\n## ", 1)[0]
    for case in ALL_CASES:
        assert not (case.ours and case.gap), case.name
        if case.ours:
            assert case.why, case.name
            assert f"`{case.name}`" in section, f"{case.name} is not in docs/semantics.md §8"
        if case.gap:
            assert f"`{case.name}`" in gaps, f"{case.name} is not under MAPPING.md Known gaps"
