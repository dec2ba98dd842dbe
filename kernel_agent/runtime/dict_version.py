"""A dict's modification stamp, where CPython keeps one: tells "untouched since".

CPython 3.6–3.13 gives every dict a version tag that changes whenever the dict
is modified (PEP 509; deprecated by PEP 699, its counting gone in 3.14). Python
code cannot read it, so this reads it from the object's memory with ctypes.
The agent uses it to skip the identity snapshot before a run when the
namespace was not touched since the snapshot after the previous run: the
common case, and the whole snapshot's cost (it touches every user global).

Where the layout is not the one expected, nothing is guessed: at import a
probe dict is modified in each way that must move the stamp (insert, replace,
delete, clear) and left alone while another dict changes, and anywhere that
does not behave (other interpreters, free-threaded or debug builds, 3.14+)
:func:`version_of` returns None, so callers take a fresh look every time.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

#: Offset of the tag in a dict: after the object header and ``ma_used``.
_OFFSET = object.__basicsize__ + ctypes.sizeof(ctypes.c_ssize_t)


def _read_tag(mapping: dict[Any, Any]) -> int:
    return ctypes.c_uint64.from_address(id(mapping) + _OFFSET).value


def _probe(read: Callable[[dict[Any, Any]], int]) -> bool:
    """Whether ``read`` moves with every kind of change to a dict, and only then."""
    probe: dict[Any, Any] = {}
    other: dict[Any, Any] = {}
    seen = [read(probe)]
    probe["x"] = object()
    seen.append(read(probe))
    probe["x"] = object()
    seen.append(read(probe))
    other["x"] = object()  # another dict's change must leave the probe's stamp alone
    if read(probe) != seen[-1]:
        return False
    del probe["x"]
    seen.append(read(probe))
    probe["y"] = 1
    seen.append(read(probe))
    probe.clear()
    seen.append(read(probe))
    return len(set(seen)) == len(seen)


def _usable() -> bool:
    if sys.implementation.name != "cpython" or not (3, 6) <= sys.version_info < (3, 14):
        return False
    if _OFFSET + ctypes.sizeof(ctypes.c_uint64) > dict.__basicsize__:
        return False
    try:
        return _probe(_read_tag)
    except Exception:  # ctypes refused; no stamps then
        return False


USABLE = _usable()


def version_of(mapping: object) -> int | None:
    """``mapping``'s modification stamp: equal stamps mean it was not modified
    between the two reads. None where no stamp can be had."""
    if not USABLE or not isinstance(mapping, dict):
        return None
    return _read_tag(mapping)
