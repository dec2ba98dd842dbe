"""Where the value of a path that a cell reads comes from (DESIGN §2, in_order).

Two answers for one cell and one path. The *expected* chain is what
restart-and-run-all gives the cell: walking up the notebook from it, every
cell that writes the path, up to and including the nearest one that rebinds
it whole (``L = [..]``, then ``L.append(..)`` below it). The *applied* chain
is what the kernel really did: every run that wrote the path since the last
run that rebound it, in the order they ran (each record knows its latest run
and the one before, so an in-place change applied twice shows). A cell whose
read got the expected chain holds restart-and-run-all's value; otherwise it
is stale, and before it runs again the expected chain must run (in notebook
order) so the kernel holds that value again.

Pure functions on records and positions; stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from .paths import overlaps

#: Sort key of a run that has not happened (the kernel's state now: every run counts).
NOW = float("inf")


class Writer(Protocol):
    """The parts of a run record the chains read (a :class:`~kernel_agent.graph.CellRecord`)."""

    @property
    def cell_id(self) -> str: ...
    @property
    def ts(self) -> float: ...
    @property
    def binds(self) -> frozenset[str]: ...
    @property
    def prev_ts(self) -> float | None: ...
    @property
    def defines(self) -> frozenset[str]: ...
    @property
    def draws(self) -> frozenset[str]: ...


def covers(bound: str, path: str) -> bool:
    """Whether rebinding ``bound`` whole replaces ``path`` (itself or a part of it)."""
    return path == bound or (path.startswith(bound) and path[len(bound)] in ".[")


def kills(writer: Writer, path: str) -> bool:
    """Whether the writer's run rebound ``path`` whole: what was there before is gone."""
    return any(covers(bound, path) for bound in writer.binds)


def _stores_whole(writer: Writer, path: str) -> bool:
    """A slot store that replaces the path (``x[0] = 5``): running it twice is
    running it once, so its own earlier run does not count against it."""
    return any(covers(b, path) and ("[" in b or "." in b) for b in writer.binds)


def _stores_only(writer: Writer, path: str) -> bool:
    """Every write of the run to ``path`` replaced a slot whole (``x[0] = 9`` for
    ``x``): running it again repeats nothing that its latest run does not redo."""
    if not writer.binds:
        return False
    return all(d in writer.binds for d in writer.defines if overlaps(d, path))


def unseeded(chain: Sequence[Writer], writers: Iterable[Writer], path: str) -> bool:
    """Whether ``path`` is random generator state drawn from with no seed above
    the reader: its values cannot be reproduced, so no run order is "right"
    and nothing is re-run to make it so (only a seed makes draws repeatable)."""
    states = {d for w in writers for d in w.draws if overlaps(d, path)}
    if not states:
        return False
    return not (chain and not states.isdisjoint(chain[0].binds))  # a seed binds the state


def expected(
    writers: Iterable[Writer], position: Mapping[str, int], below: int, path: str
) -> list[Writer]:
    """The writers restart-and-run-all applies to ``path`` before notebook position
    ``below``, in notebook order: from the nearest rebinding above down to it."""
    above = [w for w in writers if position.get(w.cell_id, below) < below]
    above.sort(key=lambda w: position[w.cell_id], reverse=True)
    chain: list[Writer] = []
    for writer in above:
        chain.append(writer)
        if kills(writer, path):
            break
    chain.reverse()
    return chain


def applied(
    writers: Iterable[Writer], path: str, before: float, subject: str | None = None
) -> list[str]:
    """Ids of the runs that made the kernel's ``path`` as a run at time ``before``
    saw it, oldest first, from the last whole rebinding on.

    ``subject``: the cell doing the reading; its own runs count (``L.append``
    or ``x = x + 1`` run twice reads its own first run) unless it stores the
    path whole, which no earlier run of it can change.
    """
    events: list[tuple[float, bool, str]] = []
    for writer in writers:
        if writer.cell_id == subject and _stores_whole(writer, path):
            continue
        killing = kills(writer, path)
        if writer.ts < before:
            events.append((writer.ts, killing, writer.cell_id))
            if _stores_only(writer, path):
                continue  # its latest stores replace what its earlier run stored
        if writer.prev_ts is not None and writer.prev_ts < before:
            events.append((writer.prev_ts, killing, writer.cell_id))
    events.sort()
    start = 0
    for index, (_, killing, _) in enumerate(events):
        if killing:
            start = index
    return [cell_id for _, _, cell_id in events[start:]]


def mismatch(
    writers: Sequence[Writer],
    position: Mapping[str, int],
    reader: str,
    path: str,
    before: float,
) -> list[str]:
    """Cells whose runs make ``reader``'s read of ``path`` (at time ``before``)
    differ from restart-and-run-all's; empty when the two agree.

    The reasons: an expected writer that ran since (or never ran in the
    applied chain), or a run that restart-and-run-all would not have applied
    there (a cell below, a second run of an in-place change).
    """
    place = position.get(reader)
    if place is None:
        return []
    if len(writers) == 1 and not writers[0].draws:  # most paths: one writer
        return mismatch_one(writers[0], position, reader, place, path, before)
    return _mismatch_chains(writers, position, reader, place, path, before)


def _mismatch_chains(
    writers: Sequence[Writer],
    position: Mapping[str, int],
    reader: str,
    place: int,
    path: str,
    before: float,
) -> list[str]:
    """:func:`mismatch` by comparing the expected and the applied chain."""
    want = expected((w for w in writers if w.cell_id != reader), position, place, path)
    if unseeded(want, writers, path):
        return []
    since = [w.cell_id for w in want if w.ts > before]
    since += [w.cell_id for w in writers if w.cell_id not in position and w.ts > before]
    if since:  # rewritten after the read (its earlier run may look applied)
        return since
    # runs of cells the notebook does not hold (a moved widget) count when they
    # came after the read (above), never as a part of a chain
    got = applied([w for w in writers if w.cell_id in position], path, before, reader)
    if [w.cell_id for w in want] == got:
        return []
    wanted = {w.cell_id for w in want}
    reasons = [w.cell_id for w in want if w.cell_id not in got]
    reasons += [cell_id for cell_id in got if cell_id not in wanted or got.count(cell_id) > 1]
    return list(dict.fromkeys(reasons)) or [w.cell_id for w in want]


def mismatch_one(
    writer: Writer, position: Mapping[str, int], reader: str, place: int, path: str, before: float
) -> list[str]:
    """:func:`mismatch` when ``writer`` is the only writer of ``path`` and drew no
    random state (``place``: the reader's position): the same answer without
    building the chains. Restart-and-run-all applies the writer once if it is
    above the reader, else never; the answer is the writer when the kernel's
    read differs from that."""
    cell_id = writer.cell_id
    at = position.get(cell_id)
    wanted = cell_id != reader and at is not None and at < place
    if writer.ts > before and (wanted or at is None):
        return [cell_id]  # rewritten after the read
    applied_runs = 0 if at is None else _applied_count(writer, path, before, cell_id == reader)
    return [] if applied_runs == wanted else [cell_id]


def _applied_count(writer: Writer, path: str, before: float, own: bool) -> int:
    """How many runs of ``writer``, the path's only writer, :func:`applied` lists."""
    binds = writer.binds
    if binds and own and _stores_whole(writer, path):
        return 0
    runs = 0
    if writer.ts < before:
        runs = 1
        if binds and _stores_only(writer, path):
            return runs
    if writer.prev_ts is not None and writer.prev_ts < before:
        runs += 1
    return min(runs, 1) if binds and kills(writer, path) else runs
