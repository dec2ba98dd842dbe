"""The shape of a ported ipyflow case: cells keyed by ipyflow's cell ids, and a script.

A case is a notebook whose code cells carry ipyflow's own cell ids as keys
(``c<key>`` in the notebook; notebook order is key order, as ipyflow's test
helper places cell ``k`` at position ``k``). A cell enters the notebook the
first time the script runs it, exactly as ipyflow's ``run_cell`` creates it:
a browser save with the new cell, then an execute request carrying its
``cellId``. The first cell of every notebook is ours, ``setup``: it switches
the session to lazy mode (nothing cascades, cells are only marked) and sets
the direction the ipyflow test used, and imports the state API.

State mapping (ipyflow → ours), see MAPPING.md:

- ipyflow "ready" (a cell with a fresh input, a run would refresh it)
  → ``stale``; a ready cell whose last run raised → ``error``.
- ipyflow "waiting" (a cell that reads a stale input) → ``waiting``.
- a cell ipyflow calls ready because its edited, not yet run source reads a
  changed symbol → ``dirty`` (we judge an edited cell by its source change).
- ipyflow's staleness-propagation "detected" (the cell just run read a
  stale symbol) → that cell is ``waiting``; "not detected" → ``fresh``.
- every other cell that ran → ``fresh``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

ANY_ORDER, IN_ORDER = "any_order", "in_order"


@dataclass(frozen=True)
class Run:
    """Run cell ``cell``; with ``source``, after the browser saved that new source."""

    cell: int
    source: str | None = None
    #: the run is expected to raise (ipyflow's ``ignore_exceptions=True``)
    raises: bool = False


@dataclass(frozen=True)
class Save:
    """The browser saves ``source`` into cell ``cell`` without running it: the cell is dirty
    (ipyflow's test recomputes the cell's AST without running it)."""

    cell: int
    source: str


@dataclass(frozen=True)
class Edge:
    """The graph endpoint has (or, with ``present=False``, has not) an edge source → target."""

    source: int
    target: int
    present: bool = True


@dataclass(frozen=True)
class States:
    """The graph's ``state`` of cells, once settled.

    With ``only`` unset every case cell in the notebook is judged: listed cells
    have the listed state, other cells that ran are ``fresh``. With ``only``,
    just those cells are judged (a staleness-propagation check names one cell).
    """

    stale: frozenset[int] = frozenset()
    waiting: frozenset[int] = frozenset()
    error: frozenset[int] = frozenset()
    only: frozenset[int] | None = None
    dirty: frozenset[int] = frozenset()

    def expected(self, cell: int) -> str:
        if cell in self.stale:
            return "stale"
        if cell in self.waiting:
            return "waiting"
        if cell in self.error:
            return "error"
        if cell in self.dirty:
            return "dirty"
        return "fresh"


@dataclass(frozen=True)
class Preview:
    """``GET /api/cascade/preview`` for ``cell``: the cells a (reactive) run would run, in order."""

    cell: int
    runs: tuple[int, ...]


@dataclass(frozen=True)
class Probe:
    """Run ``code`` in the probe cell (the notebook's last cell) and judge what it prints.

    ``{run[n]}`` in the code is replaced by the execution count of the case's
    ``n``-th run (1-based, as ipyflow's timestamps count the test's cells).
    ``stdout``: the exact text printed. ``slice_cells``: the code printed is a
    slice; the ``# Cell N`` headers it names, mapped back to case cell keys.
    ``slice_text``: the slice as printed, with ``# Cell <key>`` headers.
    """

    code: str
    stdout: str | None = None
    slice_cells: frozenset[int] | None = None
    slice_text: str | None = None


Action = Run | Save | States | Preview | Probe | Edge


@dataclass(frozen=True)
class Case:
    name: str
    #: ipyflow's test: "<module>::<test name>"
    origin: str
    cells: dict[int, str]
    script: tuple[Action, ...]
    direction: str = ANY_ORDER
    #: how the case maps onto our interfaces where it is not obvious
    note: str = ""
    marks: tuple[Any, ...] = field(default=())
    #: where we differ from ipyflow on purpose: (script step, 1-based; our check there)
    #: replaces ipyflow's check at that step; every other step still checks ipyflow's
    ours: tuple[tuple[int, Action], ...] = ()
    #: why we differ there (docs/semantics.md §8 lists the case)
    why: str = ""
    #: what we get wrong (a known gap, MAPPING.md "Known gaps"): a strict xfail
    gap: str = ""

    def played(self) -> tuple[Action, ...]:
        """The script as judged: ipyflow's checks, with ours where we differ on purpose."""
        script = list(self.script)
        for step, check in self.ours:
            if type(script[step - 1]) is not type(check):
                raise ValueError(f"{self.name}: step {step} is {script[step - 1]}, not a check")
            script[step - 1] = check
        return tuple(script)

    def param(self) -> Any:
        marks = self.marks
        if self.gap:
            marks = (*marks, pytest.mark.xfail(strict=True, reason=self.gap))
        return pytest.param(self, id=self.name, marks=marks)


# -- builders -------------------------------------------------------------------


def run_all(cells: dict[int, str]) -> tuple[Run, ...]:
    """ipyflow's ``run_all_cells``: every cell once, in id order."""
    return tuple(Run(key) for key in sorted(cells))


def states(
    stale: set[int] | frozenset[int] = frozenset(),
    waiting: set[int] | frozenset[int] = frozenset(),
    error: set[int] | frozenset[int] = frozenset(),
    dirty: set[int] | frozenset[int] = frozenset(),
) -> States:
    return States(frozenset(stale), frozenset(waiting), frozenset(error), dirty=frozenset(dirty))


DETECTED = "detected"
NOT_DETECTED = "not detected"


def chain(name: str, origin: str, *steps: str | tuple[str, str], note: str = "") -> Case:
    """A staleness-propagation case: each step is a new cell, run in turn (ids 1, 2, ...).

    A step ``(source, DETECTED)`` is judged right after its run: the cell is
    ``waiting`` (it read a stale symbol); ``(source, NOT_DETECTED)``: ``fresh``.
    """
    cells: dict[int, str] = {}
    script: list[Action] = []
    for key, step in enumerate(steps, start=1):
        source, verdict = (step, None) if isinstance(step, str) else step
        cells[key] = source
        script.append(Run(key))
        if verdict is not None:
            waiting = {key} if verdict == DETECTED else set()
            script.append(States(waiting=frozenset(waiting), only=frozenset({key})))
    return Case(name, origin, cells, tuple(script), ANY_ORDER, note)
