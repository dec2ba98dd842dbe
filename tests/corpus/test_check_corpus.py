"""``jupyter cascade check`` (static) on real notebooks as their authors saved them
(tests/corpus/saved/, see SOURCES.md).

``saved/run-all/``: the 37 corpus notebooks as committed upstream; each was
saved after one top-to-bottom run (counts grow from the top; some with gaps),
so no finding is allowed. ``saved/inconsistent/``: notebooks of the same
repositories that were not; every finding below was checked by hand against
the sources and counts (the comment says why it is true).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server_ext.consistency import check_path

SAVED = Path(__file__).resolve().parent / "saved"
RUN_ALL = sorted((SAVED / "run-all").glob("*/*.ipynb"))

#: notebook → [(rule, cell index, involved cell indexes, symbols)]
EXPECTED = {
    # cell 15 [4] plots X_train[1]; cell 3, which loads X_train, ran again at [5]
    "dsin/2.2.1 Supervised Learning - ConvNet HandsOn Part I.ipynb": [
        ("CC101", 15, [3], ["X_train[1]"]),
    ],
    # cell 10 [36] printed Y_test.shape (10000, 2): cell 11 below [28] had already made
    # Y_test categorical; run-all prints (10000,). cell 18 [57] predicts with the model
    # cell 25 below [50] built.
    "dsin/2.2.2 Supervised Learning - ConvNet HandsOn Part II.ipynb": [
        ("CC106", 10, [11], ["Y_test.shape"]),
        ("CC106", 18, [25], ["model"]),
    ],
    # the first code cell uses Input, Dense, Model and np, imported only further down;
    # plt is imported by no cell at all (counts 1-3 are missing: a deleted cell)
    "dsin/3.1 Unsupervised Learning - AutoEncoders and Embeddings.ipynb": [
        ("CC102", 0, [18, 21], ["Dense", "Input", "Model", "np"]),
        ("CC102", 2, [18, 21], ["np"]),
        ("CC103", 2, [], ["plt"]),
    ],
    # RMSprop and auto_text_generating_male_model are defined by no cell
    "dsin/3.3 (Extra) LSTM for Sentence Generation.ipynb": [
        ("CC103", 28, [], ["RMSprop"]),
        ("CC103", 29, [], ["auto_text_generating_male_model"]),
    ],
    # the optimizer cell [10]/[11] ran before the parameters cell above was re-run [17]/[18]
    "dsin/alexnet.ipynb": [("CC101", 8, [2], ["learning_rate"])],
    "dsin/convolutional_network.ipynb": [("CC101", 8, [2], ["learning_rate"])],
    # outputs with a null execution count
    "dsin/dream.ipynb": [("CC105", 5, [], []), ("CC105", 6, [], []), ("CC105", 10, [], [])],
    "pdsh/05.14-Image-Features.ipynb": [("CC105", i, [], []) for i in range(12, 17)],
}


def test_the_corpus_is_there() -> None:
    assert len(RUN_ALL) == 37
    assert len(list((SAVED / "inconsistent").glob("*/*.ipynb"))) == len(EXPECTED)


@pytest.mark.parametrize("path", RUN_ALL, ids=[f"{p.parent.name}/{p.name}" for p in RUN_ALL])
def test_saved_after_one_run_gives_no_finding(path: Path) -> None:
    assert check_path(path).findings == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inconsistent_notebooks_give_exactly_the_true_findings(name: str) -> None:
    report = check_path(SAVED / "inconsistent" / name)
    got = [
        (f.rule, f.cell.index, [c.index for c in f.cells], list(f.symbols)) for f in report.findings
    ]
    assert got == EXPECTED[name]
