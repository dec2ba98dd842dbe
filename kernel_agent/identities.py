"""Which user globals a run added, removed or rebound, by object identity.

A cheap runtime fact that catches rebinds the analysis cannot see (``exec``,
``globals()[...] =``, magics). It runs twice per cell, over a namespace that
grows with every run (IPython adds ``_i<N>``, ``_<N>``): :class:`UserNames`
only looks at the keys added since its last look (dicts keep insertion
order), and the remaining scans stay in C (``map``, dict item views).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from itertools import compress, repeat
from typing import Any

from .protocol import AGENT_NAME

#: Globals IPython itself rebinds on every run; never user state.
IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open", AGENT_NAME})


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
    """The user names of one namespace, updated from the keys added since the last call.

    A key removed (or removed and added again) changes the order of the keys
    before the new ones, and then the whole namespace is scanned again.
    """

    def __init__(self) -> None:
        self._keys: list[Any] = []
        self._names: list[str] = []

    def __call__(self, namespace: Mapping[Any, Any]) -> list[str]:
        keys = list(namespace)
        known = len(self._keys)
        if len(keys) >= known and keys[:known] == self._keys:
            self._names.extend(name for name in keys[known:] if is_user_name(name))
        else:
            self._names = user_names(namespace)
        self._keys = keys
        return list(self._names)


def identities(namespace: Mapping[str, Any], names: list[str] | None = None) -> dict[str, int]:
    """``id()`` of every user global (``names``, when the caller knows them), to compare."""
    if names is None:
        names = user_names(namespace)
    return dict(zip(names, map(id, map(namespace.__getitem__, names))))  # noqa: B905 (3.9)


def rebound(before: Mapping[str, int], after: Mapping[str, int]) -> set[str]:
    """Names added, removed or bound to another object between two snapshots."""
    changed = {name for name, _ in after.items() - before.items()}
    return changed | (before.keys() - after.keys())
