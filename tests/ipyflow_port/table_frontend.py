"""Cases from ipyflow's core/test/test_frontend_checker.py.

ipyflow asks its frontend checker for ``ready_cells`` and ``waiting_cells``;
we read the graph endpoint's states (ready → ``stale``, waiting →
``waiting``, everything else that ran → ``fresh``). Cell keys are ipyflow's
cell ids (0-based). ipyflow's fixture runs ANY_ORDER unless a test overrides
it, so do these cases. ``logging.info(v)`` is written ``print(v)``: both read
``v`` and define nothing.
"""

from __future__ import annotations

from .cases import IN_ORDER, Case, Edge, Preview, Run, Save, States, run_all, states

M = "test_frontend_checker.py::"

SIMPLE = {
    0: "x = 0",
    1: "y = x + 1",
    2: "print(y)",
    3: "'''?\n.'''",
    4: "x = 42",
}

LIST_DELETE = {
    0: "lst = [0, 1, 2, 3, 3, 4, 5, 6]",
    **{k: f"print(lst[{k - 1}])" for k in range(1, 9)},
    9: "x = lst[6] + 42",
    10: "print(x)",
}


def _list_delete(name: str, last: str) -> Case:
    cells = {**LIST_DELETE, 11: last}
    return Case(
        f"fc_list_{name}",
        M + f"test_list_{name}",
        cells,
        (*run_all(cells), states(stale={4, 5, 6, 7, 9}, waiting={10})),
        note="items from index 3 on shift: readers of lst[3..6] and x's definer are ready",
    )


UPDATE_LIST_ELEM = {
    0: (
        "class Foo:\n"
        "    def __init__(self):\n"
        "        self.counter = 0\n"
        "        self.dummy = 0\n"
        "\n"
        "    def inc(self):\n"
        "        self.counter += 1"
    ),
    1: "lst = []\nfor i in range(5):\n    x = Foo()\n    lst.append(x)",
    2: "for foo in lst:\n    foo.inc()",
    3: "print(lst)",
    4: "x.inc()",
    5: "foo.inc()",
    6: "lst[-1]",
}

CASES = [
    Case(
        "fc_simple",
        M + "test_simple",
        SIMPLE,
        (*run_all(SIMPLE), states(stale={1}, waiting={2}), Preview(1, (1, 2))),
        note="a re-run of the ready cell 1 would refresh the waiting cell 2",
    ),
    Case(
        "fc_refresh_after_exception_fixed",
        M + "test_refresh_after_exception_fixed",
        {0: "x = 0", 1: "y = x + 1", 2: "print(y)"},
        (Run(0), Run(2, raises=True), Run(1), states(error={2})),
        note="ipyflow: cell 2 (raised NameError) is ready; ours shows a failed cell as error",
    ),
    Case(
        "fc_refresh_after_val_changed",
        M + "test_refresh_after_val_changed",
        c := {0: "x = 0", 1: "y = x + 1", 2: "print(y)", 3: "y = 42"},
        (*run_all(c), states(stale={2})),
    ),
    Case(
        "fc_parents_after_dependency_update_in_later_cell",
        M + "test_parents_after_dependency_update_in_later_cell",
        c := {0: "x = 0", 1: "y = x + 1", 2: "x = 42"},
        (*run_all(c), Edge(0, 1)),
        direction=IN_ORDER,
        note="ipyflow's cell_parents[1] holds 0 → our graph has the edge 0->1",
    ),
    Case(
        "fc_inner_mutation_considered_fresh",
        M + "test_inner_mutation_considered_fresh",
        c := {
            0: "lst_0 = [0,1,2]",
            1: "lst_1 = [3,4,5]",
            2: "lst = [lst_0, lst_1]",
            3: "print(lst)",
            4: "lst_0.append(42)",
        },
        (*run_all(c), states(stale={2, 3})),
    ),
    Case(
        "fc_update_list_elem",
        M + "test_update_list_elem",
        UPDATE_LIST_ELEM,
        (
            Run(0),
            Run(1),
            Run(2),
            Run(3),
            states(),
            Run(4),
            states(stale={2, 3}),
            Run(5),
            states(stale={2, 3, 4}),
            Run(6),
            states(stale={2, 3, 4}),
            Run(4),
            states(stale={2, 3, 5, 6}),
        ),
    ),
    Case(
        "fc_no_freshness_for_alias_assignment_post_mutation",
        M + "test_no_freshness_for_alias_assignment_post_mutation",
        c := {0: "x = []", 1: "y = x", 2: "x.append(5)"},
        (*run_all(c), states()),
    ),
    Case(
        "fc_fresh_after_import",
        M + "test_fresh_after_import",
        {0: "x = np.random.random(10)", 1: "import numpy as np"},
        (Run(0, raises=True), Run(1), states(error={0})),
        note="ipyflow: cell 0 (raised NameError) is ready; ours shows a failed cell as error",
    ),
    Case(
        "fc_symbol_on_both_sides_of_assignment",
        M + "test_symbol_on_both_sides_of_assignment",
        c := {0: "x = 0", 1: "y = x + 1", 2: "y += 7", 3: "x = 42"},
        (*run_all(c), states(stale={1}, waiting={2}), Preview(1, (1, 2))),
    ),
    Case(
        "fc_updated_namespace_after_subscript_dep_removed",
        M + "test_updated_namespace_after_subscript_dep_removed",
        c := {0: "x = 5", 1: "d = {x: 5}", 2: "print(d[5])", 3: "x = 9"},
        (
            *run_all(c),
            states(stale={1}, waiting={2}),
            Run(1, "d = {5: 6}"),
            states(stale={2}),
            Run(2),
            states(),
            Run(0),
            states(),
        ),
    ),
    Case(
        "fc_equal_list_update_does_induce_fresh_cell",
        M + "test_equal_list_update_does_induce_fresh_cell",
        c := {
            0: 'x = ["f"] + ["o"] * 10',
            1: 'y = x + list("bar")',
            2: "print(y)",
            3: 'y = list("".join(y))',
            4: 'y = ("f",)',
        },
        (Run(0), Run(1), Run(2), Run(3), states(stale={2}), Run(4), states(stale={2, 3})),
    ),
    Case(
        "fc_equal_list_update_literal_reused",
        M + "test_equal_list_update_does_induce_fresh_cell_LITERAL_WITH_F_IS_REUSED_ON_UBUNTU_"
        "20_04_2_PYTHON_3_8_11",
        c := {
            0: 'x = ["f"] + ["o"] * 10',
            1: 'y = x + list("bar")',
            2: "print(y)",
            3: 'y = list("".join(y))',
            4: 'y = ["f"]',
        },
        (Run(0), Run(1), Run(2), Run(3), states(stale={2}), Run(4), states(stale={2, 3})),
    ),
    Case(
        "fc_equal_dict_update_does_induce_fresh_cell",
        M + "test_equal_dict_update_does_induce_fresh_cell",
        c := {
            0: 'x = {"foo": 42, "bar": 43}',
            1: 'y = dict(set(x.items()) | set({"baz": 44}.items()))',
            2: "print(y)",
            3: "y = dict(y.items())",
            4: 'y = {"foo": 99}',
        },
        (Run(0), Run(1), Run(2), Run(3), states(stale={2}), Run(4), states(stale={2, 3})),
    ),
    Case(
        "fc_list_append",
        M + "test_list_append",
        c := {
            0: "lst = [0, 1]",
            1: "x = lst[1] + 1",
            2: "print(x)",
            3: "lst.append(2)",
            4: "lst[1] += 42",
        },
        (Run(0), Run(1), Run(2), Run(3), states(), Run(4), states(stale={1}, waiting={2})),
        note="an append adds lst[2]: readers of lst[1] stay fresh",
    ),
    Case(
        "fc_list_extend",
        M + "test_list_extend",
        c := {
            0: "lst = [0, 1]",
            1: "x = lst[1] + 1",
            2: "print(x)",
            3: "lst.extend([2, 3, 4])",
            4: "lst[1] += 42",
        },
        (Run(0), Run(1), Run(2), Run(3), states(), Run(4), states(stale={1}, waiting={2})),
        note="an extend adds lst[2:]: readers of lst[1] stay fresh",
    ),
    Case(
        "fc_implicit_subscript_symbol_does_not_bump_ts",
        M + "test_implicit_subscript_symbol_does_not_bump_ts",
        c := {0: "lst = [] + [0, 1]", 1: "print(lst)", 2: "print(lst[0])"},
        (*run_all(c), states()),
    ),
    Case(
        "fc_liveness_skipped_for_simple_assignment_involving_aliases",
        M + "test_liveness_skipped_for_simple_assignment_involving_aliases",
        c := {0: "lst = [1, 2, 3]", 1: "lst2 = lst", 2: "lst.append(4)", 3: "lst = [1, 2, 3, 4]"},
        (Run(0), Run(1), Run(2), states(), Run(3), states(stale={1, 2})),
    ),
    Case(
        "fc_incorrect_object_not_used_for_argument_symbols",
        M + "test_incorrect_object_not_used_for_argument_symbols",
        c := {
            0: "import numpy as np",
            1: "arr = np.random.randn(100)",
            2: "def f(x): return []",
            3: "f(np.arange(10))",
        },
        (*run_all(c), states()),
    ),
    Case(
        "fc_increment_by_same_amount",
        M + "test_increment_by_same_amount",
        c := {0: "x = 2", 1: "y = x + 1", 2: "print(y)"},
        (*run_all(c), states(), Run(0, "x = 3"), states(stale={1}, waiting={2})),
    ),
    Case(
        "fc_list_insert",
        M + "test_list_insert",
        c := {
            0: "lst = [0, 1, 2, 4, 5, 6]",
            **{k: f"print(lst[{k - 1}])" for k in range(1, 7)},
            7: "x = lst[5] + 42",
            8: "print(x)",
            9: "lst.insert(3, 3)",
        },
        (*run_all(c), states(stale={4, 5, 6, 7}, waiting={8})),
        note="insert at 3 shifts lst[3:]: readers of lst[3..5] are ready",
    ),
    _list_delete("delete", "del lst[3]"),
    _list_delete("pop", "lst.pop(3)"),
    _list_delete("remove", "lst.remove(3)"),
    Case(
        "fc_list_clear",
        M + "test_list_clear",
        {0: "lst = [0]", 1: "print(lst[0])", 2: "print(lst)", 3: "lst.clear()"},
        (Run(0), Run(1), Run(2), states(), Run(3), states(stale={2})),
        note="ipyflow keeps the reader of the removed lst[0] fresh (no symbol left to refresh)",
    ),
    Case(
        "fc_dict_clear",
        M + "test_dict_clear",
        {0: "d = {0: 0}", 1: "print(d[0])", 2: "print(d)", 3: "d.clear()"},
        (Run(0), Run(1), Run(2), states(), Run(3), states(stale={2})),
    ),
    Case(
        "fc_adhoc_pandas_series_update",
        M + "test_adhoc_pandas_series_update",
        c := {
            0: "import pandas as pd",
            1: "df = pd.DataFrame({1: [2, 3], 4: [5, 7]})",
            2: 'df["foo"] = [8, 9]',
            3: "df.foo.dropna(inplace=True)",
            4: 'df["foo"] = [8, 9]',
        },
        (Run(0), Run(1), Run(2), Run(3), states(), Run(4), states(stale={3})),
    ),
    Case(
        "fc_unsafe_order",
        M + "test_unsafe_order",
        {0: "x = 0", 1: "y = x + 1"},
        (
            Run(0),
            Run(1),
            states(),
            Run(0, "x = y + 1"),
            States(stale=frozenset({0}), only=frozenset({0})),
        ),
        direction=IN_ORDER,
        note=(
            "ipyflow counts an out-of-order use (cell 0 now reads y of cell 1, below it); "
            "ours: a cell that read a value defined below it is stale (DESIGN §2)"
        ),
    ),
    Case(
        "fc_qualified_import",
        M + "test_qualified_import",
        c := {0: "import numpy.random", 1: "print(numpy.random)"},
        (*run_all(c), states()),
    ),
    Case(
        "fc_underscore",
        M + "test_underscore",
        c := {0: "x = 0", 1: "x + 1", 2: "print(_)"},
        (
            *run_all(c),
            states(),
            Run(0, "x = 1"),
            states(stale={1}, waiting={2}),
            Run(1),
            states(stale={2}),
        ),
        note="`_` is the previous result: cell 2 reads what cell 1 showed",
    ),
    Case(
        "fc_dag_semantics_simple",
        M + "test_dag_semantics_simple",
        c := {
            0: "x = 0",
            1: "y = x + 1",
            2: "print(y)",
            3: "x = 42",
            4: "y = x + 1",
            5: "print(y)",
        },
        (*run_all(c), states(), Run(0), states(stale={1}, waiting={2}), Preview(0, (0, 1, 2))),
        direction=IN_ORDER,
        note="ipyflow's DAG schedule is our in_order: the nearest definer above is the one read",
    ),
    Case(
        "fc_dag_edge_change",
        M + "test_dag_edge_change",
        {0: "x = 0", 1: "y = x + 1", 2: "print(y)"},
        (
            Run(0),
            Run(1),
            Run(2),
            Run(1, "z = 77"),
            Run(0, "x = 42"),
            states(),
            Run(1, "y = x + 2"),
            states(stale={2}),
        ),
        direction=IN_ORDER,
        note="ipyflow's DAG schedule is our in_order (the cell a cell read from decides)",
    ),
    Case(
        "fc_top_level_await",
        M + "test_top_level_await",
        c := {0: "async def foo(): return 42", 1: "bar = await foo() + 1", 2: "print(bar)"},
        (
            *run_all(c),
            states(),
            Run(0, "async def foo(): return 43"),
            states(stale={1}, waiting={2}),
        ),
        direction=IN_ORDER,
    ),
    Case(
        "fc_dag_edge_hybrid",
        M + "test_dag_edge_hybrid",
        c := {
            0: "x = 0",
            1: "y = x + 1",
            2: "print(y)",
            3: "x = 42",
            4: "y = x + 3",
            5: "print(y)",
        },
        (
            *run_all(c),
            Run(0, "x = 1"),
            states(stale={1}, waiting={2}),
            Run(4),
            states(stale={1, 5}, waiting={2}),
            Run(1),
            states(stale={2}),
            Run(4),
            states(stale={5}),
            Run(3),
            states(stale={4}, waiting={5}),
        ),
        direction=IN_ORDER,
    ),
    Case(
        "fc_dag_edge_changes",
        M + "test_dag_edge_changes",
        {0: "x = 0", 1: "y = 1", 2: "z = x + 42", 3: "print(z)"},
        (
            Run(0),
            Run(1),
            Run(2),
            Run(3),
            Save(2, "z = y + 42"),
            Run(1, "y = 2"),
            states(dirty={2}, waiting={3}),
            Run(2),
            states(stale={3}),
            Run(3),
            states(),
            Run(0, "x = 99"),
            states(),
            Save(2, "z = x + 42"),
            Run(0, "x = 100"),
            states(dirty={2}, waiting={3}),
        ),
        direction=IN_ORDER,
        note="ipyflow's edited-not-run cell 2 is ready; ours shows it dirty",
    ),
]
