"""The shape of a scenario: cells, the steps a user takes, and what must re-run.

A scenario is a small notebook of code cells (ids ``c0``, ``c1``, ...) and a list
of steps. By default every cell is first run once, top to bottom, as a user
would; then each step either runs a cell with its current source, edits it
(the browser saves the new source, then runs the cell), or only saves an edit
(the cell is then dirty). The last step must run a cell. ``reruns`` is the set of
cell indices the cascade must run for the *last* step, besides the cell the user
ran: upstream cells pulled in first and downstream cells re-run after.

After the last step every cell that ran in the session must show what
restart-and-run-all (a fresh kernel running the final sources top to bottom)
shows, except the cells in ``oracle_skip``, whose difference DESIGN §2 allows
(say why in ``why``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass(frozen=True)
class Step:
    """The user runs cell ``cell``; with ``source`` set, after editing it to that.

    ``execute=False``: the edit is only saved (the cell becomes dirty), not run.
    """

    cell: int
    source: str | None = None
    execute: bool = True


def run(cell: int) -> Step:
    return Step(cell)


def edit(cell: int, source: str) -> Step:
    """Type new code into a cell, save, run it."""
    return Step(cell, source)


def save(cell: int, source: str) -> Step:
    """Type new code into a cell and save without running it: the cell is dirty."""
    return Step(cell, source, execute=False)


@dataclass(frozen=True)
class Scenario:
    name: str
    cells: list[str]
    steps: list[Step]
    #: indices the cascade must run for the last step (not the cell the user ran)
    reruns: frozenset[int]
    #: run every cell once, top to bottom, before the steps
    run_all: bool = True
    #: expected stdout of cells after the last step (besides the oracle check)
    stdout: dict[int, str] = field(default_factory=dict)
    #: cells whose final output may differ from restart-and-run-all, per DESIGN §2
    oracle_skip: frozenset[int] = frozenset()
    why: str = ""
    #: pytest marks (xfail with a diagnosis) for scenarios the product gets wrong today
    marks: tuple[Any, ...] = ()

    def final_sources(self) -> list[str]:
        sources = list(self.cells)
        for step in self.steps:
            if step.source is not None:
                sources[step.cell] = step.source
        return sources

    def param(self) -> Any:
        return pytest.param(self, id=self.name, marks=self.marks)


def known_bug(reason: str) -> tuple[Any, ...]:
    """Marks for a scenario the product gets wrong today, outside the analysis we own."""
    return (pytest.mark.xfail(strict=True, reason=reason),)


def scenario(
    name: str,
    cells: list[str],
    steps: list[Step],
    reruns: set[int] | frozenset[int],
    **options: Any,
) -> Scenario:
    """Shorthand used by the tables: sets become frozensets."""
    if "oracle_skip" in options:
        options["oracle_skip"] = frozenset(options["oracle_skip"])
    return Scenario(name, cells, steps, frozenset(reruns), **options)
