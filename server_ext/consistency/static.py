"""The static rules: what the saved file alone shows to be out of date.

Every rule here errs towards silence: a notebook saved right after
restart-and-run-all must give no finding at all, and a rule reports only what
the execution counts, the sources and the persisted records *show*. Under
restart-and-run-all the counts grow from the top down, so the count rules
(CC101, CC106) cannot fire on such a notebook; the name rules (CC102, CC103)
skip any cell whose saved output holds an error (run-all would have raised
there too) and any name that code which may define anything (a star import,
``%run``, ``exec``, an unknown magic) could have brought.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from kernel_agent.core.paths import overlaps, root
from server_ext.persistence import FORMAT_VERSION, METADATA_KEY, source_digest

from .facts import CellFacts, cell_facts, ipython_name
from .findings import CellRef, Finding
from .notebook import SavedNotebook

#: names a kernel has before any cell runs (builtins; IPython's own are in facts.ipython_name)
_PREDEFINED = frozenset(dir(builtins)) | {"get_ipython", "display", "exit", "quit"}


def static_findings(notebook: SavedNotebook, use_metadata: bool = True) -> list[Finding]:
    """Every static finding of ``notebook``, by cell then rule."""
    findings = list(_outputs_without_count(notebook))
    if use_metadata:
        findings += _source_changed(notebook)
    if notebook.language == "python":
        facts = cell_facts(notebook, use_metadata)
        index = _Definers(facts)
        findings += _stale_reads(facts, index)
        findings += _reads_from_below(facts, index)
        findings += _undefined_reads(facts, index)
    findings.sort(key=lambda f: (f.cell.index, f.rule))
    return findings


class _Definers:
    """For each global name, the cells that may define a path under it, in notebook order."""

    def __init__(self, facts: Sequence[CellFacts]) -> None:
        self.facts = facts
        self.by_root: dict[str, list[int]] = defaultdict(list)
        for position, fact in enumerate(facts):
            for name in fact.defined_roots:
                self.by_root[name].append(position)
        self.anything = [i for i, fact in enumerate(facts) if fact.may_define_anything]
        self.counts = {f.cell.execution_count for f in facts} - {None}

    def of(self, path: str) -> Iterator[tuple[int, CellFacts]]:
        """(position, facts) of the cells whose definitions overlap ``path``."""
        for position in self.by_root.get(root(path), ()):
            fact = self.facts[position]
            if any(overlaps(d, path) for d in fact.defines):
                yield position, fact

    def anything_between(self, low: int, high: int, skip: int) -> bool:
        """Whether a cell that may define anything ran with a count in (low, high)."""
        for position in self.anything:
            count = self.facts[position].cell.execution_count
            if position != skip and count is not None and low < count < high:
                return True
        return False


def _surely(fact: CellFacts, path: str) -> bool:
    """Whether ``fact`` surely changes ``path`` when it runs (a re-import does not)."""
    if root(path) in fact.imported:
        return False
    return any(overlaps(d, path) for d in fact.sure_defines)


def _covers(fact: CellFacts, path: str) -> bool:
    """Whether ``fact`` surely rebinds ``path`` whole (or a prefix of it)."""
    return any(overlaps(d, path) and len(d) <= len(path) for d in fact.sure_defines)


# -- CC101: ran before a cell above it that it reads from ------------------------------


def _stale_reads(facts: Sequence[CellFacts], index: _Definers) -> Iterator[Finding]:
    for position, reader in enumerate(facts):
        count = reader.cell.execution_count
        if count is None:
            continue
        later: dict[int, set[str]] = defaultdict(set)
        for path in reader.uses:
            for definer in _definers_above(index, position, path):
                other = definer.cell.execution_count
                if other is not None and other > count and _surely(definer, path):
                    later[definer.cell.index].add(path)
        for definer_index, paths in sorted(later.items()):
            definer = next(f for f in facts if f.cell.index == definer_index)
            yield _finding(
                "CC101",
                reader,
                f"ran at [{count}] reading {_names(paths)}, but {_label(definer)} above, "
                f"which defines {_plural(paths)}, ran later (or in another kernel session): "
                "restart-and-run-all would run it first",
                [definer],
                paths,
            )


def _definers_above(index: _Definers, position: int, path: str) -> Iterator[CellFacts]:
    """The cells above ``position`` whose value of ``path`` restart-and-run-all would use:
    the nearest one that rebinds it whole, and the ones between that change part of it."""
    found = [fact for p, fact in index.of(path) if p < position]
    for fact in reversed(found):
        yield fact
        if fact.may_define_anything or _covers(fact, path):
            return


# -- CC106: read a value that a cell below it had defined ------------------------------


def _reads_from_below(facts: Sequence[CellFacts], index: _Definers) -> Iterator[Finding]:
    for position, reader in enumerate(facts):
        count = reader.cell.execution_count
        if count is None:
            continue
        found: dict[int, set[str]] = defaultdict(set)
        for path in reader.uses:
            source = _latest_definer(index, position, path, count)
            if source is not None:
                found[source].add(path)
        for source, paths in sorted(found.items()):
            below = facts[source]
            yield _finding(
                "CC106",
                reader,
                f"ran at [{count}] after {_label(below)} below it had defined "
                f"{_names(paths)}: it read that value, restart-and-run-all gives it the one "
                "from above",
                [below],
                paths,
            )


def _latest_definer(index: _Definers, position: int, path: str, count: int) -> int | None:
    """The position of the cell below whose run of ``path`` the reader read, if that
    is what the counts show: the last run before the reader's that may have defined
    ``path`` was that cell's, it surely defines it, and some cell above defines it too
    (else it is CC102)."""
    reader = index.facts[position]
    if root(path) in reader.defined_roots:
        return None  # `x = x + 1`: its own earlier run may have given the value
    runs = [(f.cell.execution_count, p) for p, f in index.of(path) if p != position]
    if not any(p < position for _, p in runs):
        return None
    before = [(c, p) for c, p in runs if c is not None and c < count]
    if not before:
        return None
    latest_count, latest = max(before)
    if latest < position or not _surely(index.facts[latest], path):
        return None
    if index.anything_between(latest_count, count, position):
        return None
    return latest


# -- CC102 / CC103: reads a name defined only below, or nowhere -------------------------


def _undefined_reads(facts: Sequence[CellFacts], index: _Definers) -> Iterator[Finding]:
    for position, reader in enumerate(facts):
        if not reader.cell.ran or reader.cell.errors:
            continue  # run-all raises NameError there too: an error output may be right
        if any(p < position for p in index.anything):
            continue
        names = sorted(
            n
            for n in reader.direct_reads - reader.defined_roots
            if n not in _PREDEFINED and not ipython_name(n)
        )
        below: dict[int, set[str]] = defaultdict(set)
        nowhere: set[str] = set()
        for name in names:
            positions = index.by_root.get(name, [])
            if any(p < position for p in positions):
                continue
            sure = [p for p in positions if p > position and _surely_root(facts[p], name)]
            # (an import below counts here: run-all has not imported it yet)
            for p in sure:
                below[p].add(name)
            if not positions and not index.anything and _gap_before(reader, index):
                nowhere.add(name)
        if below:
            cells = [facts[p] for p in sorted(below)]
            found = set().union(*below.values())
            yield _finding(
                "CC102",
                reader,
                f"reads {_names(found)}, defined only below it ({_labels(cells)}): its output "
                "came from a run out of order; restart-and-run-all would raise NameError here",
                cells,
                found,
            )
        if nowhere:
            yield _finding(
                "CC103",
                reader,
                f"reads {_names(nowhere)}, which no cell of the notebook defines (a deleted "
                "cell's value?): restart-and-run-all would raise NameError here",
                [],
                nowhere,
            )


def _surely_root(fact: CellFacts, name: str) -> bool:
    return any(root(d) == name for d in fact.sure_defines)


def _gap_before(reader: CellFacts, index: _Definers) -> bool:
    """Whether the counts show runs the notebook no longer holds before the reader's
    (a number below its count that no cell has): where an undefined name can come from.
    A notebook run once from the top holds every number, so this rule stays silent."""
    count = reader.cell.execution_count
    if count is None:
        return False
    return any(k not in index.counts for k in range(1, count))


# -- CC104 / CC105: what each cell says about itself -------------------------------------


def _source_changed(notebook: SavedNotebook) -> Iterator[Finding]:
    entry = notebook.metadata.get(METADATA_KEY)
    if not isinstance(entry, dict) or entry.get("version") != FORMAT_VERSION:
        return
    stored = entry.get("cells")
    if not isinstance(stored, dict):
        return
    for cell in notebook.cells:
        data = stored.get(cell.id) if cell.id is not None else None
        digest = data.get("code_sha1") if isinstance(data, dict) else None
        if cell.ran and isinstance(digest, str) and digest != source_digest(cell.source):
            yield Finding(
                "CC104",
                CellRef.of(cell),
                "its source changed after it ran (the persisted code_sha1 is of other "
                "code): its outputs are those of the old code",
            )


def _outputs_without_count(notebook: SavedNotebook) -> Iterator[Finding]:
    for cell in notebook.cells:
        if cell.outputs and cell.execution_count is None:
            yield Finding(
                "CC105",
                CellRef.of(cell),
                "has outputs but no execution count: they were not made by running it "
                "(pasted, or the count was cleared)",
            )


# -- wording -----------------------------------------------------------------------


def _finding(
    rule: str, reader: CellFacts, message: str, cells: Iterable[CellFacts], paths: Iterable[str]
) -> Finding:
    refs = tuple(sorted((CellRef.of(f.cell) for f in cells), key=lambda r: r.index))
    return Finding(rule, CellRef.of(reader.cell), message, refs, tuple(sorted(paths)))


def _label(fact: CellFacts) -> str:
    return CellRef.of(fact.cell).label()


def _labels(facts: Iterable[CellFacts]) -> str:
    return ", ".join(_label(f) for f in facts)


def _names(paths: Iterable[str]) -> str:
    return ", ".join(f"`{p}`" for p in sorted(paths))


def _plural(paths: set[str]) -> str:
    return "it" if len(paths) == 1 else "them"
