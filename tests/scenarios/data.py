"""numpy and pandas: slot stores, in-place methods, ``inplace=True``, accessors, RNG state."""

from __future__ import annotations

from .table import edit, scenario

NP = "import numpy as np"
PD = "import pandas as pd"
FRAME = 'df = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})'

SCENARIOS = [
    scenario(
        "numpy element store re-runs readers of the array, not of other elements",
        [NP, "a = np.arange(5)", "a[0] = 100", "print(a.sum())", "print(a[1])"],
        [edit(2, "a[0] = 200")],
        {3},
        stdout={3: "210\n"},
    ),
    scenario(
        "numpy 2-d element store overlaps its row",
        [NP, "m = np.zeros((2, 2))", "m[0, 1] = 5", "print(m[0])", "print(m[1])"],
        [edit(2, "m[0, 1] = 6")],
        {3},
    ),
    scenario(
        "numpy slice store re-runs every reader",
        [NP, "a = np.arange(4)", "a[1:3] = 0", "print(a[0])", "print(a)"],
        [edit(2, "a[1:3] = 7")],
        {3, 4},
    ),
    scenario(
        "numpy in-place method and augmented assignment",
        [NP, "a = np.ones(3)", "a *= 2", "a.fill(a[0] + 1)", "print(a)"],
        [edit(1, "a = np.ones(3) * 5")],
        {2, 3, 4},
        stdout={4: "[11. 11. 11.]\n"},
    ),
    scenario(
        "numpy out= argument mutates the array",
        [NP, "a = np.arange(3)", "np.add(a, 1, out=a)", "print(a)"],
        [edit(1, "a = np.arange(3) * 10")],
        {2, 3},
        stdout={3: "[ 1 11 21]\n"},
    ),
    scenario(
        "numpy module function returning a new array does not mutate",
        [NP, "a = np.arange(3)", "b = np.append(a, 9)", "print(a)", "print(b)"],
        [edit(2, "b = np.append(a, 8)")],
        {4},
    ),
    scenario(
        "numpy seed re-runs the draws",
        [NP, "np.random.seed(0)", "vals = np.random.rand(2).round(3)", "print(vals)"],
        [edit(1, "np.random.seed(1)")],
        {2, 3},
    ),
    scenario(
        "stdlib random seed re-runs the draws",
        ["import random", "random.seed(3)", "pick = random.randint(0, 1000)", "print(pick)"],
        [edit(1, "random.seed(4)")],
        {2, 3},
    ),
    scenario(
        "pandas column assignment: other columns' readers do not re-run",
        [
            PD,
            FRAME,
            'df["c"] = df["a"] * 2',
            'print(df["c"].sum())',
            'print(df["b"].sum())',
        ],
        [edit(2, 'df["c"] = df["a"] * 3')],
        {3},
        stdout={3: "18\n"},
    ),
    scenario(
        "pandas column store re-runs readers of computed attributes",
        [PD, FRAME, 'df["c"] = 1', "print(df.shape, df.values.sum())", 'print(df["a"].tolist())'],
        [edit(2, 'df["c"] = 2')],
        {3},
        stdout={3: "(3, 3) 27\n"},
    ),
    scenario(
        "pandas inplace=True drop",
        [PD, FRAME, 'df.drop(columns=["b"], inplace=True)', "print(list(df.columns))"],
        [edit(1, 'df = pd.DataFrame({"a": [1], "b": [2], "z": [3]})')],
        {2, 3},
        stdout={3: "['a', 'z']\n"},
    ),
    scenario(
        "pandas inplace=True sort_values re-runs readers",
        [
            PD,
            FRAME,
            'df.sort_values("b", ascending=False, inplace=True)',
            'print(df["a"].tolist())',
        ],
        [edit(2, 'df.sort_values("b", ascending=True, inplace=True)')],
        {1, 3},  # issue 20: an in-place change re-runs after its frame's binding
        stdout={3: "[1, 2, 3]\n"},
    ),
    scenario(
        "pandas fillna inplace on a derived frame",
        [
            PD,
            'df = pd.DataFrame({"a": [1.0, None, 3.0], "b": [None, 1.0, 2.0]})',
            "fill = 0",
            'filled = df.fillna({"a": fill})',
            "filled.fillna(-1, inplace=True)",
            'print(filled["b"].tolist())',
            'print(df["b"].tolist())',
        ],
        [edit(2, "fill = 2")],
        {3, 4, 5},
        stdout={5: "[-1.0, 1.0, 2.0]\n"},
    ),
    scenario(
        "pandas method without inplace does not mutate",
        [PD, FRAME, "df2 = df.assign(c=1)", "print(df.shape)", "print(df2.shape)"],
        [edit(2, "df2 = df.assign(c=1, d=2)")],
        {4},
    ),
    scenario(
        "pandas .loc store re-runs column readers",
        [PD, FRAME, 'df.loc[0, "a"] = 10', 'print(df["a"].sum())'],
        [edit(2, 'df.loc[0, "a"] = 20')],
        {3},
        stdout={3: "25\n"},
    ),
    scenario(
        "pandas .loc read sees column stores",
        [PD, FRAME, 'df["a"] = df["b"] * 2', 'print(df.loc[0, "a"])', 'print(df.at[1, "b"])'],
        [edit(2, 'df["a"] = df["b"] * 3')],
        {3},
        stdout={3: "12\n"},
    ),
    scenario(
        "pandas columns renamed by attribute store",
        [PD, FRAME, 'df.columns = ["x", "y"]', "print(df.iloc[0].to_dict())"],
        [edit(2, 'df.columns = ["p", "q"]')],
        {3},
    ),
    scenario(
        "pandas frame mutated by a function",
        [
            PD,
            FRAME,
            'def add_total(frame):\n    frame["total"] = frame["a"] + frame["b"]',
            "add_total(df)",
            'print(df["total"].tolist())',
        ],
        [edit(1, 'df = pd.DataFrame({"a": [10], "b": [1]})')],
        {3, 4},
        stdout={4: "[11]\n"},
    ),
    scenario(
        "pandas groupby result re-computed from an edited source",
        [
            PD,
            'sales = pd.DataFrame({"k": ["x", "y", "x"], "v": [1, 2, 3]})',
            'totals = sales.groupby("k")["v"].sum()',
            "print(totals.to_dict())",
        ],
        [edit(1, 'sales = pd.DataFrame({"k": ["x", "y", "y"], "v": [1, 2, 3]})')],
        {2, 3},
        stdout={3: "{'x': 1, 'y': 5}\n"},
    ),
    scenario(
        "pandas display option changes what printing cells show",
        [PD, "pd.set_option('display.precision', 2)", "print(pd.Series([1.23456]).to_string())"],
        [edit(1, "pd.set_option('display.precision', 4)")],
        {2},
    ),
    scenario(
        "pandas series from a numpy array",
        [NP, PD, "arr = np.array([1, 2, 3])", "s = pd.Series(arr * 2)", "print(s.sum())"],
        [edit(2, "arr = np.array([5, 5])")],
        {3, 4},
        stdout={4: "20\n"},
    ),
    scenario(
        "pandas frame aliased and mutated",
        [PD, FRAME, "view = df", 'view["a"] = 0', 'print(df["a"].tolist())'],
        [edit(3, 'view["a"] = 7')],
        {4},
        stdout={4: "[7, 7, 7]\n"},
    ),
    scenario(
        "pandas in-place insert and pop",
        [PD, FRAME, 'df.insert(0, "z", 0)', 'df.pop("b")', "print(list(df.columns))"],
        [edit(1, 'df = pd.DataFrame({"a": [1], "b": [2], "c": [3]})')],
        {2, 3, 4},
    ),
]
