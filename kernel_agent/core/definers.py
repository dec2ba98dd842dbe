"""Cells by the paths they define: the index behind staleness, edges and planning.

Keyed by a path's root name and first component, so a reader of ``d['k1']``
is not compared with the writers of ``d['k2']``. Pure data, stdlib only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from functools import lru_cache

from .paths import _components, root

#: A use of this path means "may read anything" (exec, star-import, ...).
ANY_PATH = "*"


# The first component of a path after its root, as the index keys it. Two
# paths with one root can overlap only if they agree on that component
# (paths.py: ``.a`` is ``['a']``, equal keys of any type match, a negative int
# index matches every int index, a tuple key is filed under its first key).
# A path that is the root alone overlaps every path of that root; a component
# the index cannot key (computed, unparsable, the empty tuple) is compared
# with every path of that root too, so the index only ever narrows the
# candidates to a superset of the cells that really overlap.
_WHOLE = object()
_OPAQUE = object()
_NONE: tuple[str, ...] = ()


def _slot(path: str) -> tuple[str, object]:
    """``(root, first key)`` of a path; the key is ``_WHOLE`` or ``_OPAQUE`` when
    the path has no further component or one the index cannot key."""
    if "." not in path and "[" not in path:
        return path, _WHOLE  # the common case, decided in C
    return _parsed_slot(path)


@lru_cache(maxsize=8192)
def _parsed_slot(path: str) -> tuple[str, object]:
    name = root(path)
    parts = _components(path)
    if len(parts) < 2:
        return name, _WHOLE
    kind, value = parts[1]
    if kind == "?":
        return name, _OPAQUE
    if isinstance(value, tuple):
        if not value:
            return name, _OPAQUE  # the empty tuple is a prefix of every key
        value = value[0]
    return name, value


class _Keyed:
    """The definers of paths below one root name, by their first component."""

    __slots__ = ("cells", "opaque", "keys", "ints", "negative")

    def __init__(self) -> None:
        self.cells: set[str] = set()  # every definer of a path below this root
        self.opaque: set[str] = set()  # a first component the index cannot key
        self.keys: dict[object, set[str]] = {}  # by first key (attribute = str key)
        self.ints: set[str] = set()  # an int first key (a negative index reads any)
        self.negative: set[str] = set()  # a negative int first key (aliases any int)


class DefinerIndex:
    """Cells by the paths they define: root name and first component.

    ``candidates`` is a superset of the cells that define a path overlapping
    a used one (the exact check stays with :func:`~kernel_agent.core.paths.overlaps`),
    so a reader of ``d['k1']`` is not compared with the writers of ``d['k2']``.
    """

    __slots__ = ("_whole", "_keyed", "wildcard", "sole")

    def __init__(self) -> None:
        #: root name -> cells that defined the name itself (they overlap any path of
        #: it); one cell as a 1-tuple: most names have one definer, and a set of
        #: one is 216 bytes (as sets, a quarter of a 10,000-cell graph's memory)
        self._whole: dict[str, set[str] | tuple[str]] = {}
        #: root name -> cells that defined paths below it
        self._keyed: dict[str, _Keyed] = {}
        #: cells that defined ``ANY_PATH``: candidates for every use
        self.wildcard: set[str] = set()
        #: root name -> the one cell that defined it, when no cell defined a part of
        #: it: with no ``wildcard``, the one writer of that plain name, found at a
        #: dict lookup (most names of a notebook). Read-only from outside.
        self.sole: dict[str, str] = {}

    def _settle(self, name: str) -> None:
        """Bring ``sole`` up to date for ``name`` after a change of its cells."""
        cells = self._whole.get(name)
        if isinstance(cells, tuple) and name not in self._keyed:
            self.sole[name] = cells[0]
        else:
            self.sole.pop(name, None)

    def _discard_whole(self, name: str, cell_id: str) -> None:
        cells = self._whole.get(name)
        if cells is None:
            return
        if isinstance(cells, tuple):
            if cells[0] == cell_id:
                del self._whole[name]
        else:
            cells.discard(cell_id)
            if len(cells) == 1:
                self._whole[name] = (next(iter(cells)),)
        self._settle(name)

    def add(self, cell_id: str, defines: Iterable[str]) -> None:
        for path in defines:
            if "." not in path and "[" not in path:
                if path == ANY_PATH:
                    self.wildcard.add(cell_id)
                    continue
                name, key = path, _WHOLE
            else:
                name, key = _parsed_slot(path)
            if key is _WHOLE:  # inline: a graph of 10,000 cells adds 20,000 of them
                cells = self._whole.get(name)
                if cells is None:
                    self._whole[name] = (cell_id,)
                    if name not in self._keyed:
                        self.sole[name] = cell_id
                elif isinstance(cells, tuple):
                    if cells[0] != cell_id:
                        self._whole[name] = {cells[0], cell_id}
                        self.sole.pop(name, None)
                else:
                    cells.add(cell_id)
                continue
            keyed = self._keyed.get(name)
            if keyed is None:
                keyed = self._keyed[name] = _Keyed()
                self.sole.pop(name, None)
            keyed.cells.add(cell_id)
            if key is _OPAQUE:
                keyed.opaque.add(cell_id)
                continue
            same = keyed.keys.get(key)
            if same is None:
                keyed.keys[key] = {cell_id}
            else:
                same.add(cell_id)
            if isinstance(key, int):
                keyed.ints.add(cell_id)
                if key < 0:
                    keyed.negative.add(cell_id)

    def discard(self, cell_id: str, defines: Iterable[str]) -> None:
        """Forget ``cell_id`` (``defines``: all the paths it was added with)."""
        self.wildcard.discard(cell_id)
        for path in defines:
            name, key = _slot(path)
            if key is _WHOLE:
                self._discard_whole(name, cell_id)
                continue
            keyed = self._keyed.get(name)
            if keyed is None:
                continue
            keyed.cells.discard(cell_id)
            if not keyed.cells:
                del self._keyed[name]
                self._settle(name)
                continue
            keyed.opaque.discard(cell_id)
            keyed.ints.discard(cell_id)
            keyed.negative.discard(cell_id)
            same = keyed.keys.get(key)
            if same is not None:
                same.discard(cell_id)
                if not same:
                    del keyed.keys[key]

    def clear(self) -> None:
        self._whole.clear()
        self._keyed.clear()
        self.sole.clear()
        self.wildcard.clear()

    def everything(self) -> set[str]:
        """Every indexed cell that defined something."""
        found = set(self.wildcard)
        for cells in self._whole.values():
            found.update(cells)
        for keyed in self._keyed.values():
            found |= keyed.cells
        return found

    def buckets(self, path: str) -> list[Collection[str]]:
        """Collections whose union holds every cell defining a path that may
        overlap ``path`` (wildcard definers aside). Do not modify them."""
        if "." not in path and "[" not in path:
            name, key = path, _WHOLE  # the common case, decided in C
        else:
            name, key = _parsed_slot(path)
        found: list[Collection[str]] = []
        whole = self._whole.get(name)
        if whole:
            found.append(whole)
        keyed = self._keyed.get(name)
        if keyed is None:
            return found
        if key is _WHOLE or key is _OPAQUE:
            found.append(keyed.cells)
            return found
        if keyed.opaque:
            found.append(keyed.opaque)
        same = keyed.keys.get(key)
        if same:
            found.append(same)
        if isinstance(key, int):
            aliases = keyed.ints if key < 0 else keyed.negative
            if aliases:
                found.append(aliases)
        return found

    def exact(self, path: str) -> Collection[str] | None:
        """The cells that define ``path`` itself, when no other cell may define
        a path overlapping it: ``path`` is a plain name, no cell defined a part
        of it (``x[0]``, ``x.a``) nor ``ANY_PATH``. Then they need no overlap
        check. None otherwise: ask :meth:`candidates`. Do not modify it."""
        if self.wildcard or "." in path or "[" in path or path == ANY_PATH or path in self._keyed:
            return None
        return self._whole.get(path, _NONE)

    def candidates(self, uses: Iterable[str]) -> set[str]:
        """Cells that may define a path overlapping one of ``uses`` (a superset)."""
        if not isinstance(uses, (set, frozenset, list, tuple)):
            uses = list(uses)
        if ANY_PATH in uses:
            return self.everything()
        found = set(self.wildcard)
        whole, keyed = self._whole, self._keyed
        for path in uses:
            if "." not in path and "[" not in path:  # the common case, inline
                cells = whole.get(path)
                if cells:
                    found.update(cells)
                below = keyed.get(path)
                if below:
                    found |= below.cells
                continue
            for bucket in self.buckets(path):
                found.update(bucket)
        return found
