"""Rebuild tests/corpus/notebooks/ from the public repositories listed in ``SELECTION``.

Not a test. Run it from the repository root with the bare git directories of
the sources at hand (``--mirror`` holds ``<owner>+<name>/repo``):

    .venv/bin/python tests/corpus/make_corpus.py --mirror /work/.mirror

For each notebook it keeps markdown and code cells, drops every stored output,
drops the code cells a stock kernel here cannot run the same way every time
(network, data files, shell escapes, plotting libraries that are not installed,
long ``%timeit`` loops, files written next to the notebook), then runs the rest
in a fresh stock kernel and drops the cells that raise, until none does (a
JupyterLab "Run All" stops at the first error; the corpus checks runs, not
tracebacks). Only the code cells of sources in ``CODE_ONLY`` are kept. Every
cell gets the id ``<stem>-<n>`` (nbformat 4.5), so the corpus is reproducible.
What was dropped is written to ``dropped.json`` next to the notebooks.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from scenarios.oracle import restart_and_run_all  # noqa: E402
from scenarios.server import isolated_environment  # noqa: E402

#: (folder under notebooks/, repository, path in it)
SELECTION: list[tuple[str, str, str]] = [
    *(
        ("whirlwind", "jakevdp/WhirlwindTourOfPython", f"{name}.ipynb")
        for name in (
            "02-Basic-Python-Syntax",
            "03-Semantics-Variables",
            "04-Semantics-Operators",
            "05-Built-in-Scalar-Types",
            "06-Built-in-Data-Structures",
            "07-Control-Flow-Statements",
            "08-Defining-Functions",
            "09-Errors-and-Exceptions",
            "10-Iterators",
            "11-List-Comprehensions",
            "12-Generators",
            "13-Modules-and-Packages",
            "14-Strings-and-Regular-Expressions",
        )
    ),
    *(
        ("pdsh", "jakevdp/PythonDataScienceHandbook", f"notebooks/{name}.ipynb")
        for name in (
            "02.01-Understanding-Data-Types",
            "02.02-The-Basics-Of-NumPy-Arrays",
            "02.03-Computation-on-arrays-ufuncs",
            "02.04-Computation-on-arrays-aggregates",
            "02.05-Computation-on-arrays-broadcasting",
            "02.06-Boolean-Arrays-and-Masks",
            "02.07-Fancy-Indexing",
            "02.08-Sorting",
            "02.09-Structured-Data-NumPy",
            "03.01-Introducing-Pandas-Objects",
            "03.02-Data-Indexing-and-Selection",
            "03.03-Operations-in-Pandas",
            "03.04-Missing-Values",
            "03.05-Hierarchical-Indexing",
            "03.06-Concat-And-Append",
            "03.08-Aggregation-and-Grouping",
            "03.10-Working-With-Strings",
        )
    ),
    *(
        ("scipy-lectures", "jrjohansson/scientific-python-lectures", f"{name}.ipynb")
        for name in ("Lecture-1-Introduction-to-Python-Programming", "Lecture-2-Numpy")
    ),
    *(
        ("dsin", "donnemartin/data-science-ipython-notebooks", path)
        for path in (
            "python-data/structs.ipynb",
            "python-data/functions.ipynb",
            "python-data/datetime.ipynb",
            "numpy/numpy.ipynb",
            "pandas/pandas.ipynb",
        )
    ),
]

#: Sources whose prose is under a licence that allows no derivatives (the Python Data
#: Science Handbook's text is CC-BY-NC-ND 3.0; its code is MIT): only code cells are kept.
CODE_ONLY = {"pdsh"}

#: Code cells dropped on sight: what needs the network, files, a shell, libraries
#: not installed here, or long timing loops.
DROP = re.compile(
    r"^\s*%%?(timeit|time|prun|lprun|memit|load_ext|run|file|writefile|bash|debug|pdb)\b"
    r"|^\s*!|^\s*%matplotlib|matplotlib|plt\.|seaborn|sns\.|scipy|sympy|sklearn|"
    r"read_csv|read_json|read_excel|loadtxt|genfromtxt|np\.save|np\.load\b|urlopen|"
    r"open\(|input\(|data/|nose|\bos\.(remove|system|chdir)|shutil|%%|\?\?|"
    r"load_dataset|datasets\.|get_ipython\(\)\.system",
    re.MULTILINE,
)


def git_show(mirror: Path, repo: str, path: str) -> tuple[str, str]:
    git_dir = mirror / repo.replace("/", "+") / "repo"
    commit = subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    text = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return commit, text


def build(mirror: Path, out: Path) -> None:
    env_base = Path(tempfile.mkdtemp(prefix="corpus-build-"))
    env = isolated_environment(env_base)
    env["MPLBACKEND"] = "Agg"
    dropped: dict[str, dict[str, list[str]]] = {}
    commits: dict[str, str] = {}
    for folder, repo, path in SELECTION:
        commit, text = git_show(mirror, repo, path)
        commits[repo] = commit
        nb = nbformat.reads(text, as_version=4)
        stem = Path(path).stem
        key = f"{folder}/{stem}.ipynb"
        notes: dict[str, list[str]] = {"pattern": [], "raised": []}
        cells = []
        for cell in nb.cells:
            if cell.cell_type != "code" and folder in CODE_ONLY:
                continue
            if cell.cell_type == "code":
                source = cell.source
                if DROP.search(source) or not source.strip():
                    if source.strip():
                        notes["pattern"].append(source)
                    continue
                cell.outputs = []
                cell.execution_count = None
            cell.metadata = {}
            cells.append(cell)
        nb.cells = cells
        started = time.monotonic()
        for _ in range(8):
            code = [c for c in nb.cells if c.cell_type == "code"]
            shown = restart_and_run_all([c.source for c in code], env, timeout=120)
            raising = {id(c) for c, s in zip(code, shown, strict=True) if s.error}
            if not raising:
                break
            notes["raised"] += [c.source for c in code if id(c) in raising]
            nb.cells = [c for c in nb.cells if id(c) not in raising]
        seconds = time.monotonic() - started
        nb.metadata = {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
        nb.nbformat, nb.nbformat_minor = 4, 5
        for n, cell in enumerate(nb.cells):
            cell["id"] = f"{re.sub(r'[^A-Za-z0-9]+', '-', stem)[:40]}-{n}"
        nbformat.validate(nb)
        target = out / key
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        n_code = sum(c.cell_type == "code" for c in nb.cells)
        print(
            f"{key}: {n_code} code cells, dropped {len(notes['pattern'])} by pattern, "
            f"{len(notes['raised'])} raising; {seconds:.1f} s"
        )
        dropped[key] = notes
    (out / "dropped.json").write_text(json.dumps(dropped, indent=1) + "\n")
    (out / "commits.json").write_text(json.dumps(commits, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE / "notebooks")
    args = parser.parse_args()
    build(args.mirror, args.out)


if __name__ == "__main__":
    main()
