"""Which user globals a run added, removed or rebound, by object identity.

A cheap runtime fact that catches rebinds the analysis cannot see (``exec``,
``globals()[...] =``, magics). It runs twice per cell, over a namespace that
grows with every run (IPython adds ``_i<N>``, ``_<N>``): :class:`UserNames`
only looks at the keys appended since its last look (dicts keep insertion
order), and the remaining scans stay in C (``map``, dict item views).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any

from .protocol import AGENT_NAME

#: Globals IPython itself rebinds on every run; never user state.
IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open", AGENT_NAME})

_NOTHING = object()


def is_user_name(name: object) -> bool:
    return isinstance(name, str) and not name.startswith("_") and name not in IPYTHON_NAMES


def user_names(namespace: Mapping[Any, Any]) -> list[str]:
    """The namespace's keys that name user state, in namespace order."""
    keys = list(namespace)
    try:
        public = compress(keys, map(operator.not_, map(str.startswith, keys, repeat("_"))))
        return [name for name in public if name not in IPYTHON_NAMES]
    except TypeError:  # a non-string key (``globals()[1] = ...``): the slow way
        return [name for name in keys if is_user_name(name)]


class UserNames:
    """The user names of one namespace, kept up to date from the keys appended
    since the last look.

    IPython appends a key on every run (``_i<N>``), so the namespace grows all
    session long while its user names stay few. A dict keeps insertion order:
    walking it from the end until the last key seen before finds what was
    added without touching the rest. The answer is rebuilt from a full scan
    when that cannot be trusted: a key was removed (the sizes do not add up),
    the last key seen is gone, the namespace is not a dict, and every 64 looks.
    The sizes add up after a removal only if keys were also put back before
    the last one seen (a cleared and refilled namespace): :func:`snapshot`
    then finds a name missing and rebuilds. The list returned is shared until
    the names change: callers must not modify it.
    """

    REBUILD_EVERY = 64

    def __init__(self) -> None:
        self._names: dict[str, None] = {}
        self._list: list[str] = []
        self._last: object = _NOTHING
        self._size = 0
        self._looks = 0

    def __call__(self, namespace: Mapping[Any, Any], rebuild: bool = False) -> list[str]:
        self._looks += 1
        if rebuild or self._looks % self.REBUILD_EVERY == 0 or not self._extend(namespace):
            self._names = dict.fromkeys(user_names(namespace))
            self._list = list(self._names)
        self._size = len(namespace)
        last = next(reversed(namespace), _NOTHING) if isinstance(namespace, dict) else _NOTHING
        self._last = last
        return self._list

    def _extend(self, namespace: Mapping[Any, Any]) -> bool:
        """Add the user names appended since the last look; False: rebuild instead."""
        if not isinstance(namespace, dict) or self._last is _NOTHING:
            return False
        added = []
        for key in reversed(namespace):
            if key is self._last:
                break
            added.append(key)
        else:
            return False  # the last key we saw is gone
        if self._size + len(added) != len(namespace):
            return False  # keys were removed as well
        new = [key for key in reversed(added) if is_user_name(key)]
        if new:
            self._names.update(dict.fromkeys(new))
            self._list = list(self._names)  # a new list: earlier snapshots keep theirs
        return True


_SHARED: dict[int, tuple[Mapping[Any, Any], UserNames]] = {}


def shared_user_names(namespace: Mapping[Any, Any], rebuild: bool = False) -> list[str]:
    """:func:`user_names`, kept per namespace by one :class:`UserNames`
    (``rebuild``: from a full scan). Do not modify the list.

    Analysis asks for the user's names on every run (which globals hold
    notebook functions, which objects have other names); scanning the whole
    namespace each time would cost more with every run of the session.
    """
    entry = _SHARED.get(id(namespace))
    if entry is None or entry[0] is not namespace:
        if len(_SHARED) >= 8:
            _SHARED.clear()
        entry = _SHARED[id(namespace)] = (namespace, UserNames())
    return entry[1](namespace, rebuild)


def identities(namespace: Mapping[str, Any], names: list[str] | None = None) -> dict[str, int]:
    """``id()`` of every user global (``names``, when the caller knows them), to compare."""
    if names is None:
        names = user_names(namespace)
    return dict(zip(names, map(id, map(namespace.__getitem__, names))))  # noqa: B905 (3.9)


@dataclass(frozen=True)
class Snapshot:
    """``id()`` of each user global, as two aligned lists (cheaper than a dict)."""

    names: list[str]
    ids: list[int]


def snapshot(namespace: Mapping[str, Any]) -> Snapshot:
    """The user globals of ``namespace`` and their objects' ids, now."""
    names = shared_user_names(namespace)
    try:
        return Snapshot(names, list(map(id, map(namespace.__getitem__, names))))
    except KeyError:  # a name went in a way the sizes did not show (see UserNames)
        names = shared_user_names(namespace, rebuild=True)
        return Snapshot(names, list(map(id, map(namespace.__getitem__, names))))


def changed_between(before: Snapshot, after: Snapshot) -> set[str]:
    """:func:`rebound` for snapshots. When no name was removed (the names after
    start with the names before), the comparison stays in C without pairs."""
    known = len(before.names)
    if after.names is not before.names and after.names[:known] != before.names:
        old = dict(zip(before.names, before.ids))  # noqa: B905 (3.9)
        return rebound(old, dict(zip(after.names, after.ids)))  # noqa: B905 (3.9)
    changed = set(compress(before.names, map(operator.ne, before.ids, after.ids)))
    changed.update(after.names[known:])
    return changed


def rebound(before: Mapping[str, int], after: Mapping[str, int]) -> set[str]:
    """Names added, removed or bound to another object between two snapshots."""
    changed = {name for name, _ in after.items() - before.items()}
    return changed | (before.keys() - after.keys())
