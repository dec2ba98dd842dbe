"""The static rules of ``jupyter cascade check``, one table: a consistent and an
inconsistent notebook per rule, and the traps that must stay silent.

Each case is a list of code cells ``(source, execution_count, outputs)``; an
output is a string (stdout), ``!Name`` (an error) or a dict (as saved).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import nbformat
import pytest

from server_ext.consistency import CheckOptions, check_notebook
from server_ext.consistency.notebook import NotebookError, notebook_from_dict

Cell = tuple[str, int | None, list[Any]]


@dataclass
class Case:
    name: str
    cells: list[Cell]
    #: (rule, cell index, involved cell indexes, symbols) of every finding
    expected: list[tuple[str, int, list[int], list[str]]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def notebook(cells: list[Cell], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(metadata or {})
    nb.cells.append(nbformat.v4.new_markdown_cell("# title"))  # ignored, but shifts indexes
    for n, (source, count, outputs) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source, id=f"c{n}")
        cell.execution_count = count
        cell.outputs = [_output(o) for o in outputs]
        nb.cells.append(cell)
    return nb


def _output(spec: Any) -> Any:
    if isinstance(spec, dict):
        return nbformat.from_dict(spec)
    if spec.startswith("!"):
        return nbformat.v4.new_output("error", ename=spec[1:], evalue="boom", traceback=[])
    return nbformat.v4.new_output("stream", name="stdout", text=spec)


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def persisted(entries: dict[str, tuple[str, list[str], list[str]]]) -> dict[str, Any]:
    cells = {
        cid: {"code_sha1": sha1(code), "uses": u, "defines": d}
        for cid, (code, u, d) in entries.items()
    }
    return {"jupyter_cascade": {"version": 1, "cells": cells, "edges": []}}


# Indexes below are notebook indexes: the markdown title is cell 0, code cell n is n + 1.
CASES = [
    # -- CC101: ran before the cell above it reads from was last run
    Case("CC101 ok: top to bottom", [("x = 1", 1, []), ("print(x)", 2, ["1\n"])]),
    Case(
        "CC101 definer re-ran after its reader",
        [("x = 1", 3, []), ("print(x)", 2, ["1\n"])],
        [("CC101", 2, [1], ["x"])],
    ),
    Case(
        "CC101 through a mutation between binding and reader",
        [("lst = []", 1, []), ("lst.append(1)", 4, []), ("print(lst)", 3, ["[]\n"])],
        [("CC101", 3, [2], ["lst"])],
    ),
    Case(
        "CC101 ok: a later run of a cell *below* is the notebook's later state",
        [("n = 3", 1, []), ("f = n * 2", 2, []), ("n = 10", 3, []), ("print(f)", 4, ["6\n"])],
    ),
    Case(
        "CC101 ok: re-importing gives the same module",
        [("import math", 5, []), ("print(math.pi)", 2, ["3.14\n"])],
    ),
    Case(
        "CC101 ok: the reader binds the name before using it",
        [("fig = 1", 5, []), ("fig = abs(-1)\nfig.real", 2, [])],
    ),
    Case(
        "CC101 ok: gaps in the counts (cells re-run in place)",
        [("x = 1", 1, []), ("y = x + 1", 4, []), ("print(y)", 7, ["2\n"])],
    ),
    # -- CC102 / CC103: reads a name defined only below, or nowhere
    Case("CC102 ok", [("y = 1", 1, []), ("print(y)", 2, ["1\n"])]),
    Case(
        "CC102 defined only below",
        [("print(y)", 2, ["1\n"]), ("y = 1", 1, [])],
        [("CC102", 1, [2], ["y"])],
    ),
    Case(
        "CC102 ok: the error output is what run-all shows",
        [("print(y)", 1, ["!NameError"]), ("y = 1", 2, [])],
    ),
    Case(
        "CC102 ok: a star import above may define it",
        [("from os.path import *", 1, []), ("print(join)", 2, ["<fn>\n"]), ("join = 1", 3, [])],
    ),
    Case(
        "CC102 ok: read inside a function, a lambda, a comprehension or a branch",
        [
            (
                "def f():\n    return y\ng = lambda: y\n[i for i in range(3)]\nif False:\n    y",
                1,
                [],
            ),
            ("y = 2", 2, []),
        ],
    ),
    Case("CC103 ok: a name defined nowhere, no run missing", [("print(z)", 1, ["1\n"])]),
    Case(
        "CC103 defined nowhere, runs missing from the notebook",
        [("a = 1", 1, []), ("print(z)", 5, ["1\n"])],
        [("CC103", 2, [], ["z"])],
    ),
    Case(
        "CC103 ok: IPython's own names and builtins",
        [("a = 1", 1, []), ("print(In, Out, _, _i, _3, len, display, get_ipython)", 5, ["x\n"])],
    ),
    Case(
        "CC103 ok: %run, %pylab and unknown magics may define anything",
        [("%run helpers.py", 1, []), ("%pylab inline", 2, []), ("print(z, array)", 5, ["1\n"])],
    ),
    Case(
        "CC103 ok: defined in the reading cell itself (loop variable, branch)",
        [("a = 1", 1, []), ("for k in range(2):\n    pass\nprint(k)", 5, ["1\n"])],
    ),
    # -- CC104: source changed after it ran
    Case(
        "CC104 ok: persisted digest matches",
        [("x = 1", 1, [])],
        metadata=persisted({"c0": ("x = 1", [], ["x"])}),
    ),
    Case(
        "CC104 edited after its run",
        [("x = 2", 1, [])],
        [("CC104", 1, [], [])],
        metadata=persisted({"c0": ("x = 1", [], ["x"])}),
    ),
    Case(
        "CC104 ok: an edited cell that never ran claims nothing",
        [("x = 2", None, [])],
        metadata=persisted({"c0": ("x = 1", [], ["x"])}),
    ),
    # -- CC105: outputs without an execution count
    Case("CC105 ok: never run", [("print(1)", None, [])]),
    Case("CC105 outputs, no count", [("print(1)", None, ["1\n"])], [("CC105", 1, [], [])]),
    # -- CC106: read a value a cell below had defined
    Case(
        "CC106 read the value of a cell below",
        [("x = 1", 1, []), ("print(x)", 3, ["2\n"]), ("x = 2", 2, [])],
        [("CC106", 2, [3], ["x"])],
    ),
    Case(
        "CC106 ok: the cell above ran after the one below",
        [("x = 1", 2, []), ("print(x)", 3, ["1\n"]), ("x = 2", 1, [])],
    ),
    Case(
        "CC106 ok: x = x + 1 may have read its own earlier run",
        [("x = 1", 1, []), ("x = x + 1", 3, []), ("x = 5", 2, [])],
    ),
    # -- persisted records stand in for the analysis while current
    Case(
        "persisted uses: what the run read through a method the analysis cannot see",
        [("helper = object()", 1, []), ("cfg = 1", 4, []), ("helper.go()", 2, ["1\n"])],
        [("CC101", 3, [2], ["cfg"])],
        metadata=persisted({"c2": ("helper.go()", ["cfg", "helper"], [])}),
    ),
    # -- traps that must stay silent
    Case(
        "restart-and-run-all with magics, a blank cell and a never-run cell",
        [
            ("%matplotlib inline", 1, []),
            ("", None, []),
            ("import numpy as np\nx = np.arange(3)", 2, []),
            (
                "x = x + 1\nx",
                3,
                [
                    {
                        "output_type": "execute_result",
                        "execution_count": 3,
                        "data": {"text/plain": "array([1, 2, 3])"},
                        "metadata": {},
                    }
                ],
            ),
            ("!echo hi\nfiles = !ls", 4, ["hi\n"]),
            ("print(files, x)", 5, ["[] [1 2 3]\n"]),
        ],
    ),
    Case(
        "not a Python kernel: dependency rules do not apply",
        [("print(y)", 2, ["1\n"]), ("y <- 1", 1, [])],
        metadata={"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_static_rules(case: Case) -> None:
    nb = notebook_from_dict(notebook(case.cells, case.metadata), "case.ipynb")
    report = check_notebook(nb)
    got = [
        (f.rule, f.cell.index, [c.index for c in f.cells], list(f.symbols)) for f in report.findings
    ]
    assert got == case.expected
    for finding in report.findings:
        assert finding.cell.id == f"c{finding.cell.index - 1}" and finding.message


def test_no_metadata_option_skips_the_records() -> None:
    nb = notebook_from_dict(
        notebook([("x = 2", 1, [])], persisted({"c0": ("x = 1", [], ["x"])})), "n.ipynb"
    )
    assert check_notebook(nb, CheckOptions(use_metadata=False)).findings == []
    assert check_notebook(nb, CheckOptions(ignore={"CC104"})).findings == []


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "not a notebook"),
        ({"cells": []}, "not a notebook"),
        ({"nbformat": 5, "cells": []}, "nbformat 5"),
        ({"nbformat": 4, "cells": [{"cell_type": "code", "outputs": 3}]}, "malformed outputs"),
    ],
)
def test_not_a_notebook(data: Any, message: str) -> None:
    with pytest.raises(NotebookError, match=message):
        notebook_from_dict(data, "x.ipynb")
