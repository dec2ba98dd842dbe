"""Where ``%%memoize`` keeps finished runs: in memory, and pickled on disk.

An :class:`Entry` holds what a run left behind: the values of the names it
defined, the names it deleted, the last expression's result and its recorded
outputs. The memory tier keeps the objects themselves (no copy) with a digest
of each taken when stored, and serves an entry only while the objects are
unchanged (a later cell may mutate what a hit restored). The disk tier holds
one pickle per entry, written atomically, so it survives a kernel restart.

Values that cannot be pickled — and functions defined in the notebook, which
pickle would store by name and restore as whatever that name means later —
keep the whole entry in memory only.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pickle
import tempfile
import types
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..runtime.content_hash import Undigestible, digest
from ..runtime.fingerprint import fingerprint

FORMAT = 1
#: Entries kept in memory (their objects stay alive while cached).
MEMORY_ENTRIES = 32
RESULT = "<result>"


@dataclass
class Entry:
    """One memoized run: what to restore and what to replay."""

    values: dict[str, Any]
    deleted: list[str] = field(default_factory=list)
    has_result: bool = False
    result: Any = None
    #: ("stdout" | "stderr", text) or ("display", {"data", "metadata"}), in order
    outputs: list[tuple[str, Any]] = field(default_factory=list)
    marks: dict[str, Any] = field(default_factory=dict)

    def objects(self) -> dict[str, Any]:
        found = dict(self.values)
        if self.has_result:
            found[RESULT] = self.result
        return found

    def mark(self) -> None:
        """Remember the content of every object now, to detect later mutation."""
        self.marks = {name: _mark(value) for name, value in self.objects().items()}

    def intact(self) -> bool:
        objects = self.objects()
        return objects.keys() == self.marks.keys() and all(
            _mark(value) == self.marks[name] for name, value in objects.items()
        )


def _mark(value: Any) -> Any:
    try:
        return ("digest", digest(value))
    except Undigestible:
        return ("fingerprint", fingerprint(value))


class MemoCache:
    """The memory tier (LRU) in front of one or more disk folders."""

    def __init__(self, capacity: int = MEMORY_ENTRIES) -> None:
        self.capacity = capacity
        self._memory: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str, directory: str | None) -> Entry | None:
        entry = self._memory.get(key)
        if entry is not None and entry.intact():
            self._memory.move_to_end(key)
            return entry
        self._memory.pop(key, None)
        entry = load(directory, key) if directory else None
        if entry is not None:
            self._remember(key, entry)
        return entry

    def put(self, key: str, entry: Entry, directory: str | None) -> str | None:
        """Store an entry; returns a one-line note when it stays in memory only."""
        entry.mark()
        self._remember(key, entry)
        if not directory:
            return None
        classes = _notebook_classes(entry.objects())
        if classes:
            return f"memoize: cached in memory only ({classes})"
        try:
            save(directory, key, entry)
        except OSError as error:
            return f"memoize: cannot write to {directory} ({error}); cached in memory only"
        except Exception:
            return f"memoize: cached in memory only ({why_unpicklable(entry.objects())})"
        return None

    def _remember(self, key: str, entry: Entry) -> None:
        self._memory[key] = entry
        self._memory.move_to_end(key)
        while len(self._memory) > self.capacity:
            self._memory.popitem(last=False)


@dataclass(frozen=True)
class _ModuleRef:
    """A module a memoized cell imported, stored by name and imported again on load."""

    name: str

    @staticmethod
    def wrap(value: Any) -> Any:
        return _ModuleRef(value.__name__) if isinstance(value, types.ModuleType) else value

    @staticmethod
    def unwrap(value: Any) -> Any:
        return importlib.import_module(value.name) if isinstance(value, _ModuleRef) else value


class _NotebookPickler(pickle.Pickler):
    """Refuses functions defined in the notebook (pickle would store only their name)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, types.FunctionType) and obj.__module__ == "__main__":
            raise pickle.PicklingError(f"{obj.__qualname__} is a function defined in the notebook")
        return NotImplemented


def dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _NotebookPickler(buffer, protocol=4).dump(value)
    return buffer.getvalue()


def _notebook_classes(objects: dict[str, Any]) -> str:
    """Classes defined in the notebook: pickle would store only their name."""
    return "; ".join(
        f"{name}: a class defined in the notebook"
        for name, value in objects.items()
        if isinstance(value, type) and value.__module__ == "__main__"
    )


def why_unpicklable(objects: dict[str, Any]) -> str:
    """Which objects do not pickle faithfully, and why."""
    problems = []
    for name, value in objects.items():
        try:
            dumps(_ModuleRef.wrap(value))
        except Exception as error:
            problems.append(f"{name}: {type(error).__name__}: {error}")
    return "; ".join(problems) or "the entry does not pickle"


def path_for(directory: str, key: str) -> str:
    return os.path.join(directory, f"{key}.pickle")


def save(directory: str, key: str, entry: Entry) -> None:
    """Write atomically: a reader sees the old file, the new one, or none."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    payload = {
        "format": FORMAT,
        "values": {name: _ModuleRef.wrap(value) for name, value in entry.values.items()},
        "deleted": entry.deleted,
        "has_result": entry.has_result,
        "result": entry.result,
        "outputs": entry.outputs,
    }
    data = dumps(payload)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pickle")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path_for(directory, key))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def load(directory: str, key: str) -> Entry | None:
    """The entry stored under ``key``, or None if absent, damaged or not loadable here."""
    try:
        with open(path_for(directory, key), "rb") as file:
            payload = pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception:  # damaged, another Python, a class that no longer exists: a miss
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return None
    try:
        values = {name: _ModuleRef.unwrap(value) for name, value in payload["values"].items()}
    except ImportError:
        return None
    entry = Entry(
        values=values,
        deleted=list(payload["deleted"]),
        has_result=bool(payload["has_result"]),
        result=payload["result"],
        outputs=list(payload["outputs"]),
    )
    entry.mark()
    return entry
