"""Rebuild tests/corpus/saved/: real notebooks *as their authors saved them*.

Not a test. Unlike notebooks/ (outputs removed, then run clean), these keep
each code cell's source, execution count and outputs exactly as committed,
for ``jupyter cascade check`` (tests/corpus/test_check_corpus.py). Only code
cells are kept (the Python Data Science Handbook's prose allows no
derivatives; the check ignores markdown anyway) and image payloads are
replaced by their SHA-1 (the static check never reads them). Run it from the
repository root with the bare git directories of the sources at hand:

    .venv/bin/python tests/corpus/make_saved.py --mirror /work/.mirror
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
from pathlib import Path

from make_corpus import SELECTION

HERE = Path(__file__).resolve().parent
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")

#: Further notebooks of the same repositories whose saved state is *not* what
#: restart-and-run-all shows (every finding checked by hand: test_check_corpus.py).
INCONSISTENT: list[tuple[str, str, str]] = [
    *(
        ("dsin", "donnemartin/data-science-ipython-notebooks", f"deep-learning/{path}")
        for path in (
            "keras-tutorial/2.2.1 Supervised Learning - ConvNet HandsOn Part I.ipynb",
            "keras-tutorial/2.2.2 Supervised Learning - ConvNet HandsOn Part II.ipynb",
            "keras-tutorial/3.1 Unsupervised Learning - AutoEncoders and Embeddings.ipynb",
            "keras-tutorial/3.3 (Extra) LSTM for Sentence Generation.ipynb",
            "tensor-flow-examples/notebooks/3_neural_networks/alexnet.ipynb",
            "tensor-flow-examples/notebooks/3_neural_networks/convolutional_network.ipynb",
            "deep-dream/dream.ipynb",
        )
    ),
    ("pdsh", "jakevdp/PythonDataScienceHandbook", "notebooks/05.14-Image-Features.ipynb"),
]


def git_show(mirror: Path, repo: str, path: str) -> tuple[str, str]:
    git_dir = mirror / repo.replace("/", "+") / "repo"
    run = ["git", f"--git-dir={git_dir}"]
    commit = subprocess.run(
        [*run, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    text = subprocess.run(
        [*run, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    return commit, text


def code_only(notebook: dict) -> dict:
    cells = []
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in IMAGES:
                if mime in data:
                    payload = json.dumps(data[mime]).encode()
                    data[mime] = f"<removed: sha1 {hashlib.sha1(payload).hexdigest()}>"
        cells.append(cell)
    notebook["cells"] = cells
    return notebook


def build(mirror: Path, out: Path) -> None:
    commits: dict[str, str] = {}
    for folder, repo, path in [*SELECTION, *INCONSISTENT]:
        commit, text = git_show(mirror, repo, path)
        commits[repo] = commit
        target = out / ("inconsistent" if (folder, repo, path) in INCONSISTENT else "run-all")
        target = target / folder / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = code_only(json.loads(text))
        target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    (out / "commits.json").write_text(json.dumps(commits, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE / "saved")
    args = parser.parse_args()
    build(args.mirror, args.out)


if __name__ == "__main__":
    main()
