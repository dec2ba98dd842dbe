"""In_order staleness and pulls by the nearest definitions above (DESIGN §2).

Records are laid as the agent makes them: ``binds`` are the paths a run
rebinds whole, ``prev_ts`` the run before. Each case is a notebook run top to
bottom (Run All), then one more step.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel_agent.core.graph import CellRecord, Graph
from kernel_agent.core.planning import (
    NotebookCell,
    cell_states,
    next_downstream,
    plan_repairs,
    plan_upstream,
)


@dataclass(frozen=True)
class Cell:
    source: str
    uses: frozenset[str] = frozenset()
    defines: frozenset[str] = frozenset()
    binds: frozenset[str] = frozenset()


def cell(source: str, uses: str = "", defines: str = "", binds: str = "") -> Cell:
    def paths(text: str) -> frozenset[str]:
        return frozenset(text.split())

    return Cell(source, paths(uses), paths(defines), paths(binds))


class Notebook:
    """Cells ``c0``, ``c1``, ... and a graph of their runs."""

    def __init__(self, *cells: Cell) -> None:
        self.cells = list(cells)
        self.graph = Graph()
        self.clock = 0

    @property
    def order(self) -> list[NotebookCell]:
        return [NotebookCell(f"c{i}", c.source) for i, c in enumerate(self.cells)]

    def run(self, *indices: int) -> None:
        for i in indices:
            c = self.cells[i]
            old = self.graph.records.get(f"c{i}")
            self.clock += 1
            self.graph.put(
                CellRecord(
                    f"c{i}", self.clock, c.source, c.uses, c.defines, binds=c.binds,
                    prev_ts=old.ts if old else None,
                )
            )  # fmt: skip

    def run_all(self) -> None:
        self.run(*range(len(self.cells)))

    def states(self) -> dict[str, str]:
        return cell_states(self.graph, self.order)

    def upstream(self, i: int) -> list[str]:
        return plan_upstream(self.graph, self.order, f"c{i}", {})


def test_a_definition_below_never_makes_a_cell_stale_in_a_run_all() -> None:
    nb = Notebook(
        cell("n = 3", defines="n", binds="n"),
        cell("f = n * 2", uses="n", defines="f", binds="f"),
        cell("n = 10", defines="n", binds="n"),
        cell("print('f is', f)", uses="f"),
    )
    nb.run_all()
    assert set(nb.states().values()) == {"fresh"}
    assert nb.upstream(3) == [], "Run All pulls nothing again"


def test_rerunning_a_reader_whose_value_a_cell_below_rewrote_pulls_its_definer() -> None:
    nb = Notebook(
        cell("n = 3", defines="n", binds="n"),
        cell("f = n * 2", uses="n", defines="f", binds="f"),
        cell("n = 10", defines="n", binds="n"),
    )
    nb.run_all()
    assert nb.upstream(1) == ["c0"], "restart-and-run-all gives it n = 3"


def test_an_in_place_append_is_not_applied_twice() -> None:
    nb = Notebook(
        cell("L = [2, 3, 5, 7]", defines="L", binds="L"),
        cell("L.append(11)", uses="L", defines="L"),
        cell("print(L)", uses="L"),
    )
    nb.run_all()
    assert set(nb.states().values()) == {"fresh"}
    assert nb.upstream(2) == []
    assert nb.upstream(1) == ["c0"], "the append again: its binding first"
    nb.run(1)  # stock's second Shift+Enter on the append: applied twice
    states = nb.states()
    assert states["c1"] == "stale" and states["c2"] == "stale"
    assert nb.upstream(2) == ["c0", "c1"]


def test_a_cascade_replays_the_binding_before_an_in_place_change() -> None:
    nb = Notebook(
        cell("n = 5", defines="n", binds="n"),
        cell("L = [1, 2]", defines="L", binds="L"),
        cell("L.append(n)", uses="L n", defines="L"),
        cell("print(L)", uses="L"),
    )
    nb.run_all()
    nb.run(0)
    assert next_downstream(nb.graph, nb.order, 0, {"c0"}) == "c2"
    assert plan_repairs(nb.graph, nb.order, "c2", {}) == ["c1"]
    nb.run(1, 2)
    assert plan_repairs(nb.graph, nb.order, "c3", {}) == []
    assert nb.states()["c3"] == "stale"


def test_a_reused_name_is_read_from_its_nearest_definition() -> None:
    nb = Notebook(
        cell("x = [1, 2]", defines="x", binds="x"),
        cell("x.append(3)", uses="x", defines="x"),
        cell("print(x)", uses="x"),
        cell("x = 5.0", defines="x", binds="x"),
        cell("print(x + 1)", uses="x"),
    )
    nb.run_all()
    nb.run(0)
    states = nb.states()
    assert states["c1"] == "stale" and states["c2"] == "stale"
    assert states["c4"] == "fresh", "x = 5.0 sits between"


def test_readers_of_a_stale_cell_are_waiting() -> None:
    nb = Notebook(
        cell("x = 1", defines="x", binds="x"),
        cell("y = x + 1", uses="x", defines="y", binds="y"),
        cell("z = y * 2", uses="y", defines="z", binds="z"),
        cell("print(z)", uses="z"),
    )
    nb.run_all()
    nb.run(0)
    assert nb.states() == {"c0": "fresh", "c1": "stale", "c2": "waiting", "c3": "waiting"}


def test_an_element_store_run_twice_needs_nothing_first() -> None:
    nb = Notebook(
        cell("x = [1, 2]", defines="x", binds="x"),
        cell("x[0] = 5", uses="x[0]", defines="x[0]", binds="x[0]"),
        cell("print(x)", uses="x"),
    )
    nb.run_all()
    nb.run(1)
    assert nb.upstream(1) == []
    assert nb.states()["c1"] == "fresh"


def test_a_reader_of_a_value_from_a_cell_below_is_stale() -> None:
    nb = Notebook(
        cell("x = 1", defines="x", binds="x"),
        cell("print(x)", uses="x"),
        cell("x = 2", defines="x", binds="x"),
    )
    nb.run(0, 2, 1)  # run out of order by hand
    assert nb.states()["c1"] == "stale"


def test_an_edited_element_store_does_not_count_its_earlier_run() -> None:
    nb = Notebook(
        cell("x = [1, 2]", defines="x", binds="x"),
        cell("x[0] = 9", uses="x[0]", defines="x[0]", binds="x[0]"),
        cell("print(x)", uses="x"),
    )
    nb.run_all()
    nb.cells[1] = cell("x[0] = 8", uses="x[0]", defines="x[0]", binds="x[0]")
    nb.run(1)
    assert next_downstream(nb.graph, nb.order, 1, {"c1"}) == "c2"
    assert plan_repairs(nb.graph, nb.order, "c2", {}) == []


def _draw(source: str) -> Cell:
    return Cell(source, frozenset({"np.random"}), frozenset({"np.random"}))


def test_unseeded_draws_are_not_replayed() -> None:
    nb = Notebook(
        cell("import numpy as np", defines="np", binds="np"),
        _draw("a = np.random.rand()"),
        _draw("b = np.random.rand()"),
    )
    for i, c in enumerate(nb.cells):
        nb.clock += 1
        nb.graph.put(
            CellRecord(
                f"c{i}", nb.clock, c.source, c.uses, c.defines, binds=c.binds,
                draws=frozenset({"np.random"}) if i else frozenset(),
            )
        )  # fmt: skip
    assert nb.upstream(1) == [], "nothing makes an unseeded draw repeatable"
    assert set(nb.states().values()) == {"fresh"}


def test_seeded_draws_replay_from_the_seed() -> None:
    nb = Notebook(
        cell("import numpy as np", defines="np", binds="np"),
        cell("np.random.seed(0)", uses="np.random", defines="np.random", binds="np.random"),
        _draw("a = np.random.rand()"),
    )
    for i, c in enumerate(nb.cells):
        nb.clock += 1
        nb.graph.put(
            CellRecord(
                f"c{i}", nb.clock, c.source, c.uses, c.defines, binds=c.binds,
                draws=frozenset({"np.random"}) if i == 2 else frozenset(),
            )
        )  # fmt: skip
    assert nb.upstream(2) == ["c1"], "the draw again: reseed first, as run-all would"


def test_a_second_append_replays_the_first_too() -> None:
    nb = Notebook(
        cell("L = []", defines="L", binds="L"),
        cell("L.append(1)", uses="L L[0]", defines="L[0]"),
        cell("L.append(2)", uses="L L[1]", defines="L[1]"),
        cell("print(L[0])", uses="L[0]"),
    )
    nb.run_all()
    assert nb.upstream(2) == ["c0", "c1"], "restart-and-run-all appends 1 before 2"
    assert nb.states()["c3"] == "fresh", "an append does not change L[0]"
