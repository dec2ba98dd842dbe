"""Cases from ipyflow's core/test/test_dynamic_slicing.py and core/test/test_api.py.

Slicing: ipyflow runs each snippet as a new cell (ids 1, 2, ... in run order)
and asks for the slice of the run with timestamp ``n``: the cells it keeps.
We run ``print(cells(<count>).slice())`` in a probe cell below the case's
cells (``<count>`` is the execution count of the case's ``n``-th run) and read
the ``# Cell N`` headers back as case cell keys. ipyflow's slices are per
statement too (``num_stmts_in_slice``); ours are whole cells, so only the set
of cells is compared (and the text, where ipyflow compares the text).
The fixture runs IN_ORDER; so do these cases (no state is judged).

API: ipyflow asserts inside cells; we print the same values in a probe cell
and compare the printed text. ``readable_name`` is our ``Symbol.path``.
"""

from __future__ import annotations

from .cases import IN_ORDER, Case, Probe, Run

MS = "test_dynamic_slicing.py::"
MA = "test_api.py::"


def sliced(test: str, cells: list[str], *probes: Probe, note: str = "") -> Case:
    keyed = dict(enumerate(cells, start=1))
    script = (*(Run(k) for k in keyed), *probes)
    return Case(f"ds_{test}", MS + f"test_{test}", keyed, script, IN_ORDER, note)


def slice_of(run: int, cells: set[int], text: str | None = None) -> Probe:
    return Probe(
        f"print(cells({{run[{run}]}}).slice())", slice_cells=frozenset(cells), slice_text=text
    )


def api(test: str, cells: list[str], *probes: Probe, note: str = "") -> Case:
    keyed = dict(enumerate(cells, start=1))
    script = (*(Run(k) for k in keyed), *probes)
    return Case(f"api_{test}", MA + f"test_{test}", keyed, script, IN_ORDER, note)


def prints(code: str, stdout: str) -> Probe:
    return Probe(code, stdout=stdout)


FOO_BAR_CLASSES = [
    "class Foo:\n"
    "    def __init__(self):\n"
    "        self.counter = 0\n"
    "\n"
    "    def inc(self):\n"
    "        self.counter += 1\n"
    "\n"
    "    def bar(self, indicator):\n"
    "        if indicator == 1:\n"
    "            return the_dictionary\n"
    "        else:\n"
    "            return x + 5\n"
    "\n"
    "    def new(self, indicator):\n"
    "        if indicator == 1:\n"
    "            return Foo()\n"
    "\n"
    "        return Bar()",
    "class Bar:\n"
    "    def __init__(self):\n"
    "        self.counter = 0\n"
    "\n"
    "    def foo(self, indicator):\n"
    "        if indicator == 1:\n"
    "            return the_dictionary\n"
    "\n"
    "        return Foo()",
    "x = 1",
    "the_dictionary = {'something': 1}",
]

IF_TRUE_ELSE_X = "if True:\n    y = 7\nelse:\n    print(x)"

DUMMY_CLASS = (
    "class DummyClass:\n"
    '    class_static_val = ["DummyClass.class_static_val"]\n'
    "\n"
    "    @staticmethod\n"
    "    def class_static_method():\n"
    '        class_static_method_val_1 = ["DummyClass.class_static_method_val_1"]\n'
    '        class_static_method_val_2 = ["DummyClass.class_static_method_val_2"]\n'
    "        return class_static_method_val_1 + class_static_method_val_2\n"
    "\n"
    "    def __init__(self):\n"
    '        self.class_val_1 = ["class_val_1"]\n'
    '        self.class_val_2 = ["class_val_2"]\n'
    '        self.class_val_3 = ["class_val_3"]\n'
    "\n"
    "    def class_instance_method(self):\n"
    "        return self.class_val_1 + self.class_val_2 + self.class_val_3"
)

SORTED_DEPS = "print(sorted(repr(d) for d in deps(x)))"

SLICING = [
    sliced("simple", ["a = 1", "b = 2", "print(a)", "c = a + b"], slice_of(4, {1, 2, 4})),
    sliced("simple_augassign", ["a = 0", "a += 1", "b = a", "print(a)"], slice_of(4, {1, 2, 4})),
    sliced(
        "simple_function",
        ["a = 1", "def f(): return a", "a = 3", "b = f() + 2", "print(b)"],
        slice_of(5, {2, 3, 4, 5}),
    ),
    sliced(
        "simple_list_comprehension",
        ["xs = 0", "ys = xs ** 2", "xs = 1", "ys = [x**2 for x in [xs]]"],
        slice_of(4, {3, 4}),
    ),
    sliced(
        "dynamic_symbol_usage",
        [
            "x = 5",
            "class Foo:\n    def foo(self):\n        return x",
            "def foo():\n    return Foo()",
            "print(foo().foo())",
        ],
        slice_of(4, {1, 2, 3, 4}),
    ),
    sliced(
        "nested_symbol_usage",
        ["lst = [1, 2, 3, 4, 5]", "lst[1] = 3", "print(lst[1])"],
        slice_of(3, {1, 2, 3}),
    ),
    sliced(
        "nested_symbol_usage_with_variable_subscript",
        ["x = 1", "lst = [1, 2, 3, 4, 5]", "lst[x] = 3", "print(lst[1])"],
        slice_of(4, {1, 2, 3, 4}),
    ),
    sliced(
        "liveness_timestamps",
        ["x = 0\nif True:\n    y = 1\nelse:\n    y = 2", "z = 42", "print(x + 1)"],
        slice_of(3, {1, 3}),
    ),
    sliced(
        "list_mutations",
        [
            "dummy = 0",
            "lst = []",
            "lst.append(1)",
            "lst.append(2)",
            "lst.append(3); lst.append(4)",
            "print(lst)",
        ],
        slice_of(5, {2, 3, 4, 5}),
    ),
    sliced(
        "nested_list_mutations",
        [
            "dummy = 0",
            "lst = [[]]",
            "lst[0].append(1)",
            "lst[0].append(2)",
            "lst[0].append(3); lst[0].append(4)",
            "print(lst)",
        ],
        slice_of(5, {2, 3, 4, 5}),
    ),
    sliced(
        "imports",
        ["import numpy as np", "arr = np.zeros((5,))", "print(arr * 3)"],
        slice_of(3, {1, 2, 3}),
    ),
    sliced(
        "handle_waiters",
        ["a = 1", "b = 2 * a", "a = 2", "print(b)", "print(b)"],
        slice_of(4, {1, 2, 4}),
    ),
    sliced(
        "multiple_versions_captured",
        ["x = 0", "print(x); y = 7", "x = 5", "print(x + y)"],
        slice_of(4, {1, 2, 3, 4}),
    ),
    Case(
        "ds_tuple_unpack_used_in_funcall_before_after_update_one",
        MS + "test_tuple_unpack_used_in_funcall_before_after_update_one",
        {1: "x, y = 0, 0", 2: "def get_sum(): return x + y", 3: "z = get_sum()", 4: "print(z)"},
        (
            Run(1),
            Run(2),
            Run(3),
            Run(4),
            slice_of(4, {1, 2, 3, 4}),
            Run(1, "x, y = 0, 1"),
            Run(3),
            Run(4),
            slice_of(
                7,
                {1, 2, 3, 4},
                "# Cell 1\nx, y = 0, 1\n\n# Cell 2\ndef get_sum(): return x + y\n\n"
                "# Cell 3\nz = get_sum()\n\n# Cell 4\nprint(z)",
            ),
        ),
        IN_ORDER,
        note=(
            "ipyflow's runs 5, 6, 7 re-run cells 1, 3, 4: its slice {2, 5, 6, 7} of run 7 is "
            "cells {1, 2, 3, 4} with cell 1's new code; ours prints cells in notebook order"
        ),
    ),
    sliced(
        "version_used_when_live",
        ["x = 0", IF_TRUE_ELSE_X, "x = 5", "print(x + y)"],
        slice_of(4, {1, 2, 3, 4}),
    ),
    sliced(
        "no_definitely_spurious_cells",
        ["x = 0", IF_TRUE_ELSE_X, "x = 5", "print(y)"],
        slice_of(4, {1, 2, 4}),
    ),
    sliced(
        "parent_usage_includes_child_update",
        ["lst = [3]", "lst[0] += 1", "lst2 = lst + [5]"],
        slice_of(3, {1, 2, 3}),
    ),
    sliced(
        "object_subscripting",
        [
            "class Foo:\n"
            "    def __init__(self):\n"
            "        self.counter = 0\n"
            "\n"
            "    def inc(self):\n"
            "        self.counter += 1\n"
            "\n"
            "    def bar(self):\n"
            "        return {'baz': 0}",
            "obj = Foo()",
            "name = 'baz'",
            "obj.bar()[name]",
            "something_i_dont_care_about = obj.bar()[name]",
            "something_i_care_about = obj.bar()[name]",
        ],
        slice_of(6, {1, 2, 3, 6}),
    ),
    sliced(
        "complicated_subscripting",
        [*FOO_BAR_CLASSES, "Foo().new(0).foo(1)"],
        slice_of(5, {1, 2, 4, 5}),
        note="ipyflow's slice is dynamic: the branch reading x never ran",
    ),
    sliced(
        "complicated_subscripting_use_conditional",
        [
            *FOO_BAR_CLASSES,
            "y = Foo().new(0).foo(1)\nz = Foo().new(1).bar(0)",
            "print(z)",
            "print(y)",
        ],
        slice_of(6, {1, 2, 3, 4, 5, 6}),
    ),
    sliced(
        "non_relevant_child_symbol_modified",
        [
            "lst = [0, 1, 2]",
            "lst[0] += 1",
            "lst[0] += 1",
            "lst[1] += 1",
            "lst[0] += 1",
            "lst[0] += 1",
            "print(lst[1])",
            "lst[1] = 42",
        ],
        slice_of(7, {1, 4, 7}),
        slice_of(8, {1, 8}),
    ),
    sliced("dynamic_only_increment", ["x = 0", "x += 1", "print(x)"], slice_of(3, {1, 2, 3})),
    sliced(
        "dynamic_only_variable_subscript",
        [
            "lst = [0, 1, 2]",
            "x = 0",
            "lst[x] += 1",
            "lst[x] += 1",
            "x += 1",
            "lst[x] += 1",
            "x -= 1",
            "lst[x] += 1",
            "lst[x] += 1",
            "x += 1",
            "print(lst[x])",
        ],
        slice_of(11, {1, 2, 5, 6, 7, 10, 11}),
        note="ipyflow's slice is dynamic: lst[x] resolves to lst[0] or lst[1] at each run",
    ),
    sliced(
        "handler",
        [
            "try:\n    r = map()\nexcept:\n    success = False",
            'try:\n    print("%d %d", (1, 2))\nexcept:\n    success = False',
        ],
        slice_of(2, {2}),
    ),
    sliced(
        "list_delete",
        [
            "lst = [0, 1, 2, 3, 4, 5, 6]",
            "lst.append(7)",
            "del lst[0]",
            "del lst[2]",
            "print(lst[1])",
        ],
        slice_of(5, {1, 3, 5}),
        note="the append and `del lst[2]` leave lst[1] alone",
    ),
    sliced(
        "anonymous_symbols_attached_on_fun_return_do_not_interfere",
        ["y = 3", "def f(): return y + 5", "f()", "sink = f()"],
        slice_of(
            4,
            {1, 2, 4},
            "# Cell 1\ny = 3\n\n# Cell 2\ndef f(): return y + 5\n\n# Cell 4\nsink = f()",
        ),
    ),
    sliced(
        "namespace_contributions",
        [
            "import pandas as pd",
            'df = pd.DataFrame({"a": [0,1], "b": [2., 3.]})',
            "df['x'] = df.a + 1",
            "df['y'] = df.a + 2",
            "df['z'] = df.b + 3",
            "df.dropna()",
        ],
        slice_of(6, {1, 2, 3, 4, 5, 6}),
    ),
]

API = [
    api(
        "lookup_symbol_simple",
        ["x = y = 42"],
        prints("print(lift(x).path)", "x\n"),
        prints("print(lift(y).path)", "y\n"),
    ),
    api(
        "code_simple",
        ["x = 0", "y = x + 1"],
        prints("env = {}\nexec(str(lift(y).code()), env)\nprint(env['x'], env['y'])", "0 1\n"),
        prints("env = {}\nexec(str(code(y)), env)\nprint(env['x'], env['y'])", "0 1\n"),
    ),
    api(
        "timestamp",
        ["x = 0", "y = x + 1"],
        prints("print(timestamp(x).cell_num == {run[1]})", "True\n"),
        prints("print(timestamp(y).cell_num == {run[2]})", "True\n"),
        note="ipyflow's cell_num is the run's counter; ours the execution count of that run",
    ),
    api(
        "deps_and_users",
        ["x = 0", "y = x + 0"],
        prints("print(deps(x) == [])", "True\n"),
        prints("print(deps(y) == [lift(x)])", "True\n"),
        prints("print(users(x) == [lift(y)])", "True\n"),
        prints("print(users(y) == [])", "True\n"),
        note="x and y hold the same interned int 0; each check is one line, as ipyflow's cells",
    ),
    api(
        "multiple_deps_from_funcall",
        ["def f():\n    x = 0\n    y = 1\n    return x + y", "z = f()"],
        prints("print(sorted(repr(d) for d in deps(z)))", "['<f>', '<x>', '<y>']\n"),
        note="ipyflow lists f's locals x and y among z's deps",
    ),
    api(
        "function_dependencies",
        [
            DUMMY_CLASS,
            "x = []\nclass_instance = DummyClass()\nx += class_instance.class_instance_method()",
        ],
        prints(
            SORTED_DEPS,
            "['<DummyClass.class_instance_method>', '<class_instance.class_val_1>', "
            "'<class_instance.class_val_2>', '<class_instance.class_val_3>', "
            "'<class_instance>']\n",
        ),
        note="only ipyflow's first of three deps(x) checks",
    ),
    api(
        "call_deps",
        [
            "def f(): return 0, 1, 2, 3",
            "a, b, c, d = f()",
            "g = lambda: (0, 1, 2, 3)",
            "w, x, y, z = g()",
        ],
        *(prints(f"print(deps({v}) == [lift(f)])", "True\n") for v in "abcd"),
        *(prints(f"print(users({v}) == [])", "True\n") for v in "abcd"),
        *(prints(f"print(deps({v}) == [lift(g)])", "True\n") for v in "wxyz"),
        *(prints(f"print(users({v}) == [])", "True\n") for v in "wxyz"),
        note="ipyflow checks a..d before defining g; a..d and w..z hold the same ints",
    ),
]

CASES = [*SLICING, *API]
